import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ChronicleClient, ManifestFile } from '@chronicle/sdk';
import { CliError } from '../context.js';
import { hashFiles } from './hash-pool.js';
import type { HashCache } from './hash-cache.js';
import { walkTree } from './walk.js';

export interface CheckoutResult {
  files: number;
  fetched: number;
  fetchedBytes: number;
  kept: number;
  removed: string[];
}

export function parseManifestText(text: string): ManifestFile[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ManifestFile);
}

export async function fetchText(client: ChronicleClient, sha256: string): Promise<string> {
  const body = await client.datasets.downloadBlob(sha256);
  const chunks: Buffer[] = [];
  for await (const c of Readable.fromWeb(body as WebReadableStream<Uint8Array>)) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks);
  const actual = createHash('sha256').update(text).digest('hex');
  if (actual !== sha256) throw new CliError(`manifest ${sha256} is corrupt: it hashes to ${actual}`, 'CORRUPT_BLOB');
  return text.toString('utf8');
}

/** Downloads one blob into place through a temporary file, verifying its hash before the rename. */
async function fetchFile(client: ChronicleClient, f: ManifestFile, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.chronicle-partial`;
  const hash = createHash('sha256');
  try {
    const body = await client.datasets.downloadBlob(f.sha256);
    await pipeline(
      Readable.fromWeb(body as WebReadableStream<Uint8Array>),
      new Transform({ transform: (chunk: Buffer, _e, cb) => (hash.update(chunk), cb(null, chunk)) }),
      createWriteStream(tmp),
    );
  } catch (e) {
    await rm(tmp, { force: true });
    // The server fails the stream of a blob whose bytes no longer match their address.
    throw new CliError(`could not fetch "${f.path}" (blob ${f.sha256}): corrupt or interrupted download (${e instanceof Error ? e.message : String(e)})`, 'CORRUPT_BLOB');
  }
  const actual = hash.digest('hex');
  if (actual !== f.sha256) {
    await unlink(tmp);
    throw new CliError(`blob ${f.sha256} for "${f.path}" is corrupt: its content hashes to ${actual}; nothing was written for it`, 'CORRUPT_BLOB');
  }
  await rename(tmp, target);
}

/**
 * Makes `dir` hold exactly the files of `manifest`: files already there with the right hash are
 * kept, others fetched and verified, files the version lacks removed. Empty directories stay.
 */
export async function checkout(
  client: ChronicleClient,
  manifest: readonly ManifestFile[],
  dir: string,
  opts: { cache: HashCache; concurrency?: number; onProgress?(done: number, bytes: number): void },
): Promise<CheckoutResult> {
  await mkdir(dir, { recursive: true });
  const root = join(dir, '.');
  for (const f of manifest) {
    const target = join(root, f.path);
    if (relative(root, target).startsWith(`..${sep}`)) throw new CliError(`manifest path "${f.path}" leaves the checkout directory`);
  }
  const present = (await walkTree(root)).files;
  const local = new Map(present.map((f) => [f.path, f]));
  const candidates = manifest.flatMap((m) => {
    const l = local.get(m.path);
    return l && l.size === m.size ? [{ m, l }] : [];
  });
  const uncached = candidates.filter((c) => opts.cache.get(c.l.absolute, c.l) === undefined);
  const hashes = await hashFiles(uncached.map((c) => c.l), () => {});
  uncached.forEach((c, i) => opts.cache.set(c.l.absolute, c.l, hashes[i]!));
  const ok = new Set(candidates.filter((c) => opts.cache.get(c.l.absolute, c.l) === c.m.sha256).map((c) => c.m.path));
  const wanted = new Set(manifest.map((m) => m.path));
  const removed = present.filter((p) => !wanted.has(p.path)).map((p) => p.path);
  for (const path of removed) await unlink(join(root, path));
  const toFetch = manifest.filter((m) => !ok.has(m.path));
  let done = 0;
  let bytes = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(opts.concurrency ?? 8, toFetch.length) }, async () => {
      while (next < toFetch.length) {
        const f = toFetch[next++]!;
        await fetchFile(client, f, join(root, f.path));
        done++;
        bytes += f.size;
        opts.onProgress?.(done, bytes);
      }
    }),
  );
  return { files: manifest.length, fetched: toFetch.length, fetchedBytes: bytes, kept: ok.size, removed };
}

