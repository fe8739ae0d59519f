// Artifact transfer, end to end: a file streamed from disk through PUT /api/v1/runs/:runId/artifacts/*
// into the blob store, then streamed back through GET to disk. Baseline, same run and same disk:
// `cp` of the same file. The server's RSS is sampled throughout: it must stay flat (no buffering).
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync, writeSync, openSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { createClient } from '@chronicle/sdk';
import { createDurableFileWriter } from '@chronicle/sdk/node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gql, startChronicle } from '../support/chronicle-process.js';
import { rssMb } from './support.js';

export interface ArtifactsResult {
  sizeMb: number;
  uploadMbPerS: number;
  downloadMbPerS: number;
  cpMbPerS: number;
  uploadRatio: number;
  downloadRatio: number;
  idleRssMb: number;
  peakRssMb: number;
}

function writeTestFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(8 << 20);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let written = 0; written < bytes; written += chunk.length) {
    chunk.writeUInt32LE(written >>> 0, 0); // every chunk differs
    writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  }
  closeSync(fd);
}

const seconds = (t: number) => (performance.now() - t) / 1000;

export async function benchArtifacts(bytes: number): Promise<ArtifactsResult> {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-artifacts-bench-'));
  const server = await startChronicle({ dataDir: join(dir, 'data') });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.child.pid!))), 50);
  try {
    const source = join(dir, 'model.bin');
    writeTestFile(source, bytes);
    const mb = bytes / (1 << 20);

    spawnSync('sync');
    let t = performance.now();
    const cp = spawnSync('cp', [source, join(dir, 'cp-copy.bin')]);
    if (cp.status !== 0) throw new Error(`cp failed: ${cp.stderr}`);
    spawnSync('sync');
    const cpS = seconds(t);

    const run = await gql(server.url, 'mutation { startRun(input: { experimentId: "0", name: "bench" }) { id } }');
    const runId = run.body.data.startRun.id as string;
    const client = createClient({ url: server.url, token: server.adminToken });
    const idle = rssMb(server.child.pid!);
    peak = idle;

    // Through the SDK, as a trainer or the CLI does it.
    t = performance.now();
    const up = await client.artifacts.upload(runId, 'model.bin', createReadStream(source, { highWaterMark: 1 << 20 }));
    if (!up.created || up.size !== bytes) throw new Error(`upload answered ${JSON.stringify(up)}`);
    spawnSync('sync');
    const uploadS = seconds(t);

    const target = join(dir, 'downloaded.bin');
    // As `chronicle artifacts download` does it: hashed where it is written, checked at the end.
    t = performance.now();
    const down = await client.artifacts.download(runId, 'model.bin', { callerVerifies: true });
    const hash = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(down.body as never), hashing, createDurableFileWriter(target));
    if (hash.digest('hex') !== up.sha256) throw new Error('download does not hash to the uploaded content');
    spawnSync('sync');
    const downloadS = seconds(t);
    if (statSync(target).size !== bytes) throw new Error('download is truncated');

    return {
      sizeMb: mb,
      uploadMbPerS: mb / uploadS,
      downloadMbPerS: mb / downloadS,
      cpMbPerS: mb / cpS,
      uploadRatio: cpS / uploadS,
      downloadRatio: cpS / downloadS,
      idleRssMb: idle,
      peakRssMb: peak,
    };
  } finally {
    clearInterval(sampler);
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
