import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { stat } from 'node:fs/promises';
import type { DatasetsApi } from '@chronicle/sdk';
import { onThisMachine, sameHostUnavailable, unchanged } from '@chronicle/sdk/node';
import type { Command } from 'commander';
import { CliError, contextOf } from '../context.js';
import { checkout, fetchText, parseManifestText } from '../data/checkout.js';
import { defaultCacheDir, HashCache } from '../data/hash-cache.js';
import { HashPool } from '../data/hash-pool.js';
import { rateBar, rateBars } from '../data/rate-bars.js';
import { uploadTree, type UploadTreeResult } from '../data/upload-tree.js';
import { walkTree, type WalkedFile } from '../data/walk.js';
import { formatTime, table, type Io } from '../output.js';
import { asOfOf, asOfOption } from '../as-of-option.js';

/**
 * Files at least this large and not in the hash cache are uploaded while they are hashed: one
 * read, and the server's hashing overlaps ours. The price is an upload the server might not
 * have needed (content it already had under another path or inode), worth it for new data.
 */
const UPLOAD_WHILE_HASHING_MIN = 32 * 1024 * 1024;
const UPLOAD_WHILE_HASHING_PARALLEL = 2;

/** Streams a file to the server once, hashing it on the way; fails unless both hashes agree. */
async function uploadWhileHashing(datasets: DatasetsApi, f: WalkedFile, onBytes: (n: number) => void): Promise<string> {
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  const file = createReadStream(f.absolute, { highWaterMark: 1024 * 1024 });
  file.on('error', (e) => tee.destroy(e));
  const stored = await datasets.uploadUnaddressed(file.pipe(tee));
  const local = hash.digest('hex');
  if (stored.sha256 !== local || stored.size !== f.size)
    throw new CliError(`${f.path} changed or was corrupted while uploading (read ${local}, server stored ${stored.sha256}); commit again`);
  return local;
}

/**
 * Same host: the server copies the file and hashes its copy (no bytes through HTTP, no hashing
 * here). What it stored is what the file held unless the file changed meanwhile, which its
 * size, mtime and inode, taken again afterwards, would show. Null when the server refuses.
 */
async function importWhole(datasets: DatasetsApi, f: WalkedFile): Promise<string | null> {
  let stored: { sha256: string; size: number };
  try {
    stored = await datasets.importUnaddressed(f.absolute);
  } catch (e) {
    if (sameHostUnavailable(e)) return null;
    throw e;
  }
  if (stored.size !== f.size || !unchanged(f, await stat(f.absolute)))
    throw new CliError(`${f.path} changed while it was being committed; commit again`);
  return stored.sha256;
}

/** `images`, `images@3`, `images:gold`. */
export function parseDatasetRef(ref: string): { dataset: string; version: string } {
  const m = /^([^@:]+)(?:([@:])(.+))?$/.exec(ref);
  if (!m) throw new CliError(`"${ref}" is not <dataset>, <dataset>@<version> or <dataset>:<tag>`);
  return { dataset: m[1]!, version: m[3] ?? 'latest' };
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export function registerData(program: Command, io: Io): void {
  const data = program
    .command('data')
    .description('version datasets: commit a file or directory, diff, check out, log, deprecate')
    .addHelpText(
      'after',
      `
Examples:
  $ chronicle data commit images ./images -m "add March scans" --tag march
  $ chronicle data log images
  $ chronicle data diff images 1 2
  $ chronicle data checkout images:march ./work/images
  $ chronicle data deprecate images@2 --reason "mislabelled cats"

Symlinks to files are followed; symlinks to directories, and empty directories, are not versioned.
See docs/datasets.md.`,
    );

  data
    .command('commit <dataset> <path>')
    .description('hash a file or directory, upload what the server lacks, and record a version (the dataset is created if needed)')
    .option('-m, --message <text>', 'why this version exists', '')
    .option('--tag <tag...>', 'tag the new version (tags never move)')
    .option('--no-rebase', 'fail with CONFLICT instead of re-committing on a newer head')
    .option('-j, --jobs <n>', 'parallel uploads of files too large to batch', '4')
    .option('--no-same-host', 'stream big files over HTTP even to a server on this machine that may copy them (CHRONICLE_LOCAL_TRANSFER_ROOTS)')
    .addHelpText('after', '\nExample:\n  $ chronicle data commit churn ./data/churn -m "dedupe customers" --tag v2\n')
    .action(async (dataset: string, path: string, opts: { message: string; tag?: string[]; rebase: boolean; jobs: string; sameHost: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const datasets = ctx.client.datasets;
      // Asked first, so the answer (and the dataset's creation) overlaps the walk and hashing.
      const base = datasets.commitBase(dataset);
      base.catch(() => undefined); // awaited below; an early failure must not go unhandled meanwhile
      const cache = await HashCache.open(defaultCacheDir(process.env));
      const { files, skipped } = await walkTree(path);
      for (const s of skipped) io.err(`skipped ${s.path}: ${s.reason}\n`);
      const known = files.map((f) => cache.get(f.absolute, f));
      const streamed = files.filter((f, i) => known[i] === undefined && f.size >= UPLOAD_WHILE_HASHING_MIN);
      const pooled = streamed.length === 0 ? files : files.filter((f, i) => !(known[i] === undefined && f.size >= UPLOAD_WHILE_HASHING_MIN));
      const pooledKnown = streamed.length === 0 ? known : pooled.map((f) => cache.get(f.absolute, f));
      const hashedFiles = known.filter((h) => h === undefined).length;
      const bars = rateBars(io);
      const hashBar = bars.add('hashing', hashedFiles);
      const uploadBar = bars.add('uploading', 0);
      let hashed = 0;
      let hashedBytes = 0;
      let queued = 0;
      let uploaded = 0;
      let uploadedBytes = 0;
      const onHashed = (n: number, b: number) => hashBar.update((hashed += n), (hashedBytes += b));
      const onUploaded = (n: number, b: number) => uploadBar.update((uploaded += n), (uploadedBytes += b));
      const pool = new HashPool();
      let sameHost = opts.sameHost && onThisMachine(ctx.client);
      let copiedByServer = 0;
      let tree: UploadTreeResult;
      try {
        [tree] = await Promise.all([
          uploadTree(pooled, {
            known: pooledKnown,
            hasher: pool,
            fileUploads: Number(opts.jobs),
            server: {
              missing: (hashes) => datasets.missing(hashes),
              uploadBatch: (body) => datasets.uploadEncodedBlobBatch(body),
              uploadFile: async (sha256, f) => datasets.uploadBlob(sha256, createReadStream(f.absolute, { highWaterMark: 1 << 20 })),
            },
            onHashed,
            onQueued: (n) => uploadBar.setTotal((queued += n)),
            onUploaded,
          }),
          mapLimit(streamed, UPLOAD_WHILE_HASHING_PARALLEL, async (f) => {
            uploadBar.setTotal(++queued);
            // A server on this machine may copy big files itself; once it refuses, stream the rest.
            const imported = sameHost ? await importWhole(datasets, f) : null;
            if (imported === null) sameHost = false;
            else {
              copiedByServer++;
              hashBar.update(hashed, (hashedBytes += f.size));
            }
            const sha256 = imported ?? (await uploadWhileHashing(datasets, f, (b) => hashBar.update(hashed, (hashedBytes += b))));
            cache.set(f.absolute, f, sha256);
            onHashed(1, 0);
            onUploaded(1, f.size);
          }),
        ]);
      } finally {
        await pool.close();
        bars.stop();
      }
      pooled.forEach((f, i) => cache.set(f.absolute, f, tree.hashes[i]!));
      // Saved before the version is recorded: a retry after an interrupted commit re-hashes nothing.
      await cache.save();
      const r = await datasets.recordVersion(
        dataset,
        await base,
        files.map((f) => ({ path: f.path, size: f.size, sha256: cache.get(f.absolute, f)! })),
        {
          message: opts.message,
          tags: opts.tag ?? [],
          rebase: opts.rebase,
          onRebase: (from, to) => io.err(`dataset ${dataset} moved from version ${from ?? 'none'} to ${to} meanwhile; committing on version ${to}\n`),
        },
      );
      const res = { dataset, ...r, uploadedFiles: uploaded, uploadedBytes };
      ctx.emit(
        { ...res, files: files.length, hashedFiles, copiedByServer, skipped },
        () =>
          res.changed
            ? `${res.versionId}: ${files.length} files, uploaded ${res.uploadedFiles} (${mb(res.uploadedBytes)}${copiedByServer ? `, ${copiedByServer} copied by the server on this machine` : ''}), hashed ${hashedFiles}\n`
            : `nothing changed: ${dataset} version ${res.version} already has exactly these files\n`,
      );
    });

  data
    .command('log <dataset>')
    .description('list the versions of a dataset, newest first')
    .addOption(asOfOption())
    .action(async (dataset: string, opts: { asOf?: number | string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const versions = await ctx.client.datasets.versions(dataset, asOfOf(opts));
      ctx.emit(versions, () =>
        table(
          ['VERSION', 'PARENT', 'FILES', 'BYTES', 'TAGS', 'AUTHOR', 'CREATED', 'MESSAGE'],
          versions.map((v) => [
            String(v.version) + (v.deprecated ? ' (deprecated)' : ''),
            v.parentVersion === null ? '-' : String(v.parentVersion),
            String(v.fileCount),
            String(v.totalBytes),
            v.tags.join(','),
            v.author,
            formatTime(v.createdAt),
            v.deprecated ? `${v.message} [deprecated: ${v.deprecationReason}]` : v.message,
          ]),
        ),
      );
    });

  data
    .command('diff <dataset> <from> <to>')
    .description('files added, removed and modified between two versions (numbers or tags), with CSV row/column changes')
    .addHelpText('after', '\nExample:\n  $ chronicle data diff images 1 gold --json\n')
    .action(async (dataset: string, from: string, to: string, _o: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const d = await ctx.client.graphql<{
        datasetDiff: {
          added: { path: string; size: number }[];
          removed: { path: string; size: number }[];
          modified: { path: string; oldSize: number; newSize: number }[];
          unchangedCount: number;
          bytesAdded: number;
          bytesRemoved: number;
          bytesChanged: number;
          csv: { path: string; rowsBefore: number | null; rowsAfter: number | null; columnsAdded: string[]; columnsRemoved: string[] }[];
        };
      }>(
        `query($d: String!, $f: String!, $t: String!) { datasetDiff(dataset: $d, from: $f, to: $t) {
          added { path size sha256 } removed { path size sha256 } modified { path oldSize newSize oldSha256 newSha256 }
          unchangedCount bytesAdded bytesRemoved bytesChanged csv { path rowsBefore rowsAfter columnsAdded columnsRemoved } } }`,
        { d: dataset, f: from, t: to },
      );
      const x = d.datasetDiff;
      ctx.emit(x, () => {
        let out = '';
        for (const a of x.added) out += `+ ${a.path} (${a.size} bytes)\n`;
        for (const r of x.removed) out += `- ${r.path} (${r.size} bytes)\n`;
        for (const m of x.modified) out += `M ${m.path} (${m.oldSize} → ${m.newSize} bytes)\n`;
        for (const c of x.csv) {
          const cols = [...c.columnsAdded.map((n) => `+${n}`), ...c.columnsRemoved.map((n) => `-${n}`)].join(' ');
          out += `  csv ${c.path}: rows ${c.rowsBefore ?? '-'} → ${c.rowsAfter ?? '-'}${cols ? `, columns ${cols}` : ''}\n`;
        }
        return `${out}${x.added.length} added, ${x.removed.length} removed, ${x.modified.length} modified, ${x.unchangedCount} unchanged; ${x.bytesChanged} bytes changed\n`;
      });
    });

  data
    .command('checkout <ref> <dir>')
    .description('make <dir> hold exactly a version (<dataset>, <dataset>@<n> or <dataset>:<tag>); only differing files are fetched, every hash is verified')
    .option('-j, --jobs <n>', 'parallel downloads', '8')
    .addHelpText('after', '\nExample:\n  $ chronicle data checkout images@3 ./images   # files not in version 3 are removed from ./images\n')
    .action(async (ref: string, dir: string, opts: { jobs: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const { dataset, version } = parseDatasetRef(ref);
      const v = await ctx.client.datasets.version(dataset, version);
      const manifest = parseManifestText(await fetchText(ctx.client, v.manifestSha256));
      const cache = await HashCache.open(defaultCacheDir(process.env));
      const bar = rateBar(io, 'fetching', manifest.length);
      try {
        const res = await checkout(ctx.client, manifest, dir, { cache, concurrency: Number(opts.jobs), onProgress: (n, b) => bar.update(n, b) });
        bar.stop();
        await cache.save();
        ctx.emit({ versionId: v.versionId, ...res }, () =>
          `${v.versionId} in ${dir}: ${res.files} files, fetched ${res.fetched} (${mb(res.fetchedBytes)}), kept ${res.kept}, removed ${res.removed.length}\n`,
        );
      } finally {
        bar.stop();
      }
    });

  data
    .command('deprecate <ref>')
    .description('mark a version (<dataset>@<n> or <dataset>:<tag>) as not to be used; it stays readable, and new runs refuse it')
    .requiredOption('--reason <text>', 'why (shown in log and lineage)')
    .addHelpText('after', '\nExample:\n  $ chronicle data deprecate images@2 --reason "labels were shifted by one"\n')
    .action(async (ref: string, opts: { reason: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const { dataset, version } = parseDatasetRef(ref);
      if (version === 'latest') throw new CliError('name the version to deprecate: <dataset>@<n> or <dataset>:<tag>');
      const v = await ctx.client.datasets.deprecate(dataset, version, opts.reason);
      ctx.emit(v, () => `${v.versionId} deprecated: ${v.deprecationReason}\n`);
    });

  data
    .command('tag <ref> <tag>')
    .description('tag a version; a tag names one version forever')
    .action(async (ref: string, tag: string, _o: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const { dataset, version } = parseDatasetRef(ref);
      const v = await ctx.client.datasets.tag(dataset, version, tag);
      ctx.emit(v, () => `${v.versionId} tagged ${tag}\n`);
    });
}

