// verifyLog over a log of N events (a mix of metric batches, params and tags, written with big appends).
// Baseline, same run and process: plain SHA-256 over the same bytes (envelope + stored data text,
// one digest per event), timing the hashing only; the reading is verifyLog's own cost.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLog } from '@chronicle/audit';
import type { DomainEvent } from '@chronicle/domain';
import { createSqliteEventStore, type StreamWrite } from '@chronicle/event-store';

export interface VerifyBenchResult {
  events: number;
  fileMb: number;
  writeMs: number;
  verify: { ms: number; mbPerS: number; eventsPerS: number; bytes: number };
  sha256: { ms: number; mbPerS: number; eventsPerS: number; bytes: number };
  ratio: number;
}

const EVENTS_PER_RUN = 100;
const RUNS_PER_APPEND = 10;

/** One run's life: started, params, tags, metric batches of a few keys and points, finished. */
export function runEvents(runId: string, seed: number): DomainEvent[] {
  const out: DomainEvent[] = [{ type: 'RunStarted', data: { runId, experimentId: '0', name: `run-${seed}`, tags: [], parentRunId: null, source: {}, environment: {}, startTime: seed } }];
  for (let i = 0; i < 15; i++) out.push({ type: 'RunParamsLogged', data: { runId, params: [{ key: `p${i}`, value: String((seed * 31 + i) % 997) }] } });
  for (let i = 0; i < 8; i++) out.push({ type: 'RunTagsSet', data: { runId, tags: [{ key: `t${i}`, value: `v${(seed + i) % 13}` }] } });
  for (let b = 0; out.length < EVENTS_PER_RUN - 1; b++) {
    const steps = Array.from({ length: 10 }, (_, i) => b * 10 + i);
    out.push({
      type: 'RunMetricsLogged',
      data: {
        runId,
        series: ['loss', 'acc'].map((key, k) => ({
          key,
          steps,
          values: steps.map((s) => Math.round(Math.abs(Math.sin(s * (k + 1) + seed)) * 1e6) / 1e6),
          timestamps: steps.map((s) => 1_700_000_000_000 + s * 1000),
        })),
      },
    });
  }
  out.push({ type: 'RunFinished', data: { runId, status: 'FINISHED', endTime: seed + 1 } });
  return out;
}

export async function benchVerify(events = 1_000_000): Promise<VerifyBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-bench-verify-'));
  const path = join(dir, 'log.db');
  try {
    const writer = createSqliteEventStore({ path });
    const writeStarted = performance.now();
    const runs = Math.ceil(events / EVENTS_PER_RUN);
    for (let r = 0; r < runs; r += RUNS_PER_APPEND) {
      const writes: StreamWrite[] = [];
      for (let i = r; i < Math.min(runs, r + RUNS_PER_APPEND); i++)
        writes.push({ stream: `run-r${i}`, expectedRevision: 'no_stream', events: runEvents(`r${i}`, i) });
      await writer.append(writes, { actor: 'user:bench', correlationId: `bench-${r}` });
    }
    const writeMs = performance.now() - writeStarted;
    await writer.close();

    const store = createSqliteEventStore({ path });
    const report = await verifyLog(store);
    if (!report.ok) throw new Error(`the benchmark log does not verify: ${JSON.stringify(report.firstBreak)}`);

    // The same bytes chainHash covers, hashed plainly: the floor for any verifier.
    let hashMs = 0;
    let bytes = 0;
    let hashed = 0;
    for (let after = 0; ; ) {
      const batch = await store.readAllRaw({ after, limit: 512 });
      if (batch.length === 0) break;
      const t = performance.now();
      for (const e of batch) {
        const head = `${e.hash}\n${e.id}\n${e.stream}\n${e.revision}\n${e.type}\n${e.schemaVersion}\n${e.recordedAt}\n${e.actor}\n${e.correlationId}\n${e.causationId ?? ''}\n`;
        createHash('sha256').update(head).update(e.dataText).digest('hex');
        bytes += Buffer.byteLength(head) + Buffer.byteLength(e.dataText);
      }
      hashMs += performance.now() - t;
      hashed += batch.length;
      after = batch[batch.length - 1]!.position;
    }
    await store.close();
    const mb = (b: number) => b / 1024 / 1024;
    return {
      events: report.events,
      fileMb: mb(statSync(path).size),
      writeMs,
      verify: { ms: report.ms, bytes: report.bytesHashed, mbPerS: mb(report.bytesHashed) / (report.ms / 1000), eventsPerS: report.events / (report.ms / 1000) },
      sha256: { ms: hashMs, bytes, mbPerS: mb(bytes) / (hashMs / 1000), eventsPerS: hashed / (hashMs / 1000) },
      ratio: hashMs / report.ms,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
