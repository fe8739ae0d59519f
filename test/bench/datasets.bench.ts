// Dataset versioning, end to end through the real CLI and server:
// - N small files (1-10 KB) committed, against `find | xargs -0 sha256sum` over the same files;
// - the same tree again with 10 files changed (hash cache warm);
// - one large file committed, against `sha256sum` of it;
// - lineage / impact p99 on a 10,000-node graph built from real events by the real projections.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainEvent } from '@chronicle/domain';
import { createSqliteEventStore, type StreamWrite } from '@chronicle/event-store';
import { allProjections, createReadModels, ProjectionRunner } from '@chronicle/projections';
import { cliMain, startChronicle } from '../support/chronicle-process.js';
import { stats, type Stats } from './support.js';

export interface DatasetsBenchResult {
  files: number;
  totalMb: number;
  commitMs: number;
  sha256sumMs: number;
  ratio: number;
  recommitMs: number;
  bigMb: number;
  bigCommitMbPerS: number;
  bigSha256sumMbPerS: number;
  bigRatio: number;
  bigStreamedMbPerS: number;
  bigStreamedSha256sumMbPerS: number;
  bigStreamedRatio: number;
  graphNodes: number;
  lineage: Stats;
  impact: Stats;
}

function makeTree(root: string, n: number): number {
  let bytes = 0;
  const pool = randomBytes(16 * 1024);
  for (let i = 0; i < n; i++) {
    const dir = join(root, `d${i % 200}`);
    if (i < 200) mkdirSync(dir, { recursive: true });
    const size = 1024 + ((i * 7919) % 9217);
    const content = Buffer.concat([Buffer.from(`file ${i}\n`), pool.subarray(i % 4096, (i % 4096) + size)]);
    writeFileSync(join(dir, `f${i}.bin`), content);
    bytes += content.length;
  }
  return bytes;
}

function writeBigFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const chunk = randomBytes(8 << 20);
  for (let written = 0; written < bytes; written += chunk.length) {
    chunk.writeUInt32LE(written >>> 0, 0);
    writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  }
  closeSync(fd);
}

const timed = (fn: () => void) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};

/** 10,000 nodes: dataset version chains, runs reading and writing them, model versions, deployments. */
async function lineageGraph(samples: number): Promise<{ nodes: number; lineage: Stats; impact: Stats }> {
  const store = createSqliteEventStore({ path: ':memory:' });
  const writes: StreamWrite[] = [];
  const ev = (stream: string, type: string, data: unknown) => writes.push({ stream, expectedRevision: 'any', events: [{ type, data } as DomainEvent] });
  const DATASETS = 50;
  const VERSIONS = 50; // 2,500 dataset versions
  const RUNS = 5_000;
  const MODELS = 2_000;
  const DEPLOYMENTS = 500;
  for (let d = 0; d < DATASETS; d++)
    for (let v = 1; v <= VERSIONS; v++)
      ev(`dataset-ds${d}`, 'DatasetVersionCommitted', {
        name: `ds${d}`, version: v, versionId: `ds${d}@${v}`, parentVersion: v === 1 ? null : v - 1, manifestSha256: 'a'.repeat(64),
        fileCount: 1, totalBytes: 1, tabular: [], message: '', author: 'user:bench', tags: [], at: 0,
      });
  const vid = (k: number) => `ds${k % DATASETS}@${1 + (Math.floor(k / DATASETS) % VERSIONS)}`;
  for (let r = 0; r < RUNS; r++) {
    ev(`runio-r${r}`, 'RunInputsDeclared', {
      runId: `r${r}`,
      inputs: [0, 1, 2].map((j) => ({ datasetName: 'x', versionId: vid(r * 3 + j * 17), versionNumber: 1, role: 'train' })),
      at: 0,
    });
    if (r % 5 === 0) ev(`runio-r${r}`, 'RunOutputsDeclared', { runId: `r${r}`, outputs: [{ datasetName: 'x', versionId: vid(r * 7 + 1), versionNumber: 1 }], at: 0 });
  }
  for (let m = 0; m < MODELS; m++)
    ev(`model-m${m % 100}`, 'ModelVersionCreated', { name: `m${m % 100}`, version: 1 + Math.floor(m / 100), runId: `r${(m * 13) % RUNS}`, artifactPath: 'x', sha256: 'a'.repeat(64), size: 1, format: null, signature: null, description: '', at: 0 });
  for (let p = 0; p < DEPLOYMENTS; p++)
    ev(`environment-e${p % 5}`, 'DeploymentRequested', { environment: `e${p % 5}`, deploymentId: `dep${p}`, model: `m${p % 100}`, version: 1 + (p % 20), sha256: 'a'.repeat(64), artifactPath: 'x', reason: '', rollbackOf: null, restores: null, at: 0 });
  for (let i = 0; i < writes.length; i += 1000) await store.append(writes.slice(i, i + 1000), { actor: 'system:bench' });
  const runner = new ProjectionRunner({ store, db: store.db, projections: allProjections, batchSize: 5000 });
  await runner.catchUp();
  const read = createReadModels(store.db);
  const nodes = (store.db.prepare('SELECT count(*) AS n FROM rm_lineage_nodes').get() as { n: number }).n;
  const lin: number[] = [];
  const imp: number[] = [];
  for (let i = 0; i < samples; i++) {
    lin.push(timed(() => read.lineage.lineage(`deployment:dep${(i * 37) % DEPLOYMENTS}`)));
    imp.push(timed(() => read.lineage.impact(`dataset_version:${vid(i * 11)}`)));
  }
  store.db.close();
  return { nodes, lineage: stats(lin), impact: stats(imp) };
}

/** `bigBytes: 0` skips the large-file part and `samples: 0` the lineage graph (for iterating on one part). */
export async function benchDatasets(opts: { files: number; bigBytes: number; samples: number }): Promise<DatasetsBenchResult> {
  const work = mkdtempSync(join(tmpdir(), 'chronicle-bench-data-'));
  // The bench's directory is open to same-host transfers, as an operator would open a work tree.
  const server = await startChronicle({ env: { CHRONICLE_LOCAL_TRANSFER_ROOTS: work } });
  try {
    const tree = join(work, 'tree');
    const bytes = makeTree(tree, opts.files);
    execFileSync('sync');
    const sha256sumMs = timed(() => execFileSync('sh', ['-c', `find "${tree}" -type f -print0 | xargs -0 sha256sum > /dev/null`]));
    const env = { ...process.env, CHRONICLE_CACHE_DIR: join(work, 'cache') };
    const commit = (dataset: string, path: string, ...flags: string[]) => {
      const r = spawnSync(process.execPath, [cliMain, '--url', server.url, '--token', server.adminToken, '--json', 'data', 'commit', dataset, path, ...flags], {
        env,
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      if (r.status !== 0) throw new Error(`commit failed: ${r.stderr}`);
      return JSON.parse(r.stdout) as { changed: boolean; uploadedFiles: number };
    };
    const commitMs = timed(() => commit('bench', tree));
    for (let i = 0; i < 10; i++) writeFileSync(join(tree, `d${i}`, `f${i}.bin`), `changed ${i} ${Date.now()}`);
    let second: { changed: boolean; uploadedFiles: number } | null = null;
    const recommitMs = timed(() => (second = commit('bench', tree)));
    if (!second!.changed || second!.uploadedFiles !== 10) throw new Error(`second commit uploaded ${second!.uploadedFiles} files`);

    // One large file each way, each new to the server and to the CLI's hash cache: streamed over
    // HTTP (hashed on both sides while it moves), then copied by the server (same host).
    const bigCommit = (name: string, ...flags: string[]) => {
      const dir = join(work, name);
      mkdirSync(dir);
      writeBigFile(join(dir, 'big.bin'), opts.bigBytes);
      execFileSync('sync');
      const sumMs = timed(() => execFileSync('sha256sum', [join(dir, 'big.bin')]));
      const commitMs = timed(() => commit(name, dir, ...flags));
      return { sumMs, commitMs };
    };
    const bigStreamed = opts.bigBytes > 0 ? bigCommit('big-streamed', '--no-same-host') : { sumMs: NaN, commitMs: NaN };
    const bigSameHost = opts.bigBytes > 0 ? bigCommit('big-same-host') : { sumMs: NaN, commitMs: NaN };
    const mb = opts.bigBytes / 1e6;
    const graph = opts.samples > 0 ? await lineageGraph(opts.samples) : { nodes: 0, lineage: stats([NaN]), impact: stats([NaN]) };
    return {
      files: opts.files,
      totalMb: bytes / 1e6,
      commitMs,
      sha256sumMs,
      ratio: commitMs / sha256sumMs,
      recommitMs,
      bigMb: mb,
      bigCommitMbPerS: mb / (bigSameHost.commitMs / 1000),
      bigSha256sumMbPerS: mb / (bigSameHost.sumMs / 1000),
      bigRatio: bigSameHost.sumMs / bigSameHost.commitMs,
      bigStreamedMbPerS: mb / (bigStreamed.commitMs / 1000),
      bigStreamedSha256sumMbPerS: mb / (bigStreamed.sumMs / 1000),
      bigStreamedRatio: bigStreamed.sumMs / bigStreamed.commitMs,
      graphNodes: graph.nodes,
      lineage: graph.lineage,
      impact: graph.impact,
    };
  } finally {
    await server.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}
