// Artifact transfer, end to end: a file put into a run's artifacts and read back to disk, through
// the SDK, once streamed over HTTP and once as a same-host copy. Baseline, same run and same disk:
// `cp` of the same file. The server's RSS is sampled throughout: it must stay flat (no buffering).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@chronicle/sdk';
import { downloadArtifactFile, uploadArtifactFile } from '@chronicle/sdk/node';
import { gql, startChronicle } from '../support/chronicle-process.js';
import { rssMb } from './support.js';

export interface TransferFigures {
  uploadMbPerS: number;
  downloadMbPerS: number;
  uploadRatio: number;
  downloadRatio: number;
}

export interface ArtifactsResult {
  sizeMb: number;
  cpMbPerS: number;
  streamed: TransferFigures;
  sameHost: TransferFigures;
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
  // The bench's own directory is open to same-host transfers, as an operator would open a work tree.
  const server = await startChronicle({ dataDir: join(dir, 'data'), env: { CHRONICLE_LOCAL_TRANSFER_ROOTS: dir } });
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

    // Through the SDK, as the CLI does it: each way once streamed over HTTP and once as a
    // same-host copy; every download is hash-checked and on disk before it is reported.
    const transfer = async (sameHost: boolean) => {
      const name = sameHost ? 'same-host.bin' : 'streamed.bin';
      let t = performance.now();
      const up = await uploadArtifactFile(client, runId, name, source, { sameHost });
      if (up.mode !== (sameHost ? 'same-host' : 'streamed') || up.size !== bytes) throw new Error(`upload answered ${JSON.stringify(up)}`);
      spawnSync('sync');
      const uploadS = seconds(t);
      const target = join(dir, `down-${name}`);
      t = performance.now();
      const down = await downloadArtifactFile(client, runId, name, target, { sameHost });
      spawnSync('sync');
      const downloadS = seconds(t);
      if (down.mode !== up.mode || statSync(target).size !== bytes) throw new Error(`download answered ${JSON.stringify(down)}`);
      rmSync(target);
      return { uploadMbPerS: mb / uploadS, downloadMbPerS: mb / downloadS, uploadRatio: cpS / uploadS, downloadRatio: cpS / downloadS };
    };
    const streamed = await transfer(false);
    const sameHost = await transfer(true);

    return {
      sizeMb: mb,
      cpMbPerS: mb / cpS,
      streamed,
      sameHost,
      idleRssMb: idle,
      peakRssMb: peak,
    };
  } finally {
    clearInterval(sampler);
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
