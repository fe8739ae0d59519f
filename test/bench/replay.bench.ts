// Replay of every read model from a log of N events, beside a bare read of the same log
// (readAll of every event, JSON parsing included) in the same run: the ratio is the cost
// of projecting. The log is a realistic mix (runs with params, tags and metric batches, plus
// registry events), written with big multi-stream appends.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelStream, type DomainEvent } from '@chronicle/domain';
import { createSqliteEventStore, type StreamWrite } from '@chronicle/event-store';
import { allProjections, READ_MODELS_FILE, replaceDatabaseFile, replayReadModels } from '@chronicle/projections';
import { runEvents } from './verify.bench.js';

export interface ReplayBenchResult {
  events: number;
  fileMb: number;
  writeMs: number;
  bareRead: { ms: number; eventsPerS: number };
  replay: { ms: number; eventsPerS: number; rows: number };
  ratio: number;
}

const EVENTS_PER_RUN = 100;
const RUNS_PER_APPEND = 20;

function registryEvents(i: number): StreamWrite {
  const name = `model-${i}`;
  const at = 1_700_000_000_000 + i;
  const card = { intendedUse: 'churn scoring', limitations: '', trainingData: `run r${i}`, evaluation: '', owners: ['ada'] };
  const events: DomainEvent[] = [
    { type: 'ModelRegistered', data: { name, description: '', tags: [], card, at } },
    { type: 'ModelVersionCreated', data: { name, version: 1, runId: `r${i}`, artifactPath: 'model.pkl', sha256: 'a'.repeat(64), size: 1024, format: null, signature: null, description: '', at } },
    { type: 'ModelAliasSet', data: { name, alias: 'champion', version: 1, previousVersion: null, at } },
    { type: 'ModelVersionStageChanged', data: { name, version: 1, fromStage: 'None', toStage: 'Staging', at } },
  ];
  return { stream: modelStream(name), expectedRevision: 'no_stream', events };
}

export async function benchReplay(events: number, onProgress?: (done: number) => void): Promise<ReplayBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'chronicle-bench-replay-'));
  const path = join(dir, 'chronicle.db');
  try {
    const writer = createSqliteEventStore({ path });
    writer.db.pragma('synchronous = OFF');
    const writeStarted = performance.now();
    const runs = Math.ceil(events / EVENTS_PER_RUN);
    for (let r = 0; r < runs; r += RUNS_PER_APPEND) {
      const writes: StreamWrite[] = [];
      for (let i = r; i < Math.min(runs, r + RUNS_PER_APPEND); i++) {
        writes.push({ stream: `run-r${i}`, expectedRevision: 'no_stream', events: runEvents(`r${i}`, i) });
        if (i % 50 === 0) writes.push(registryEvents(i));
      }
      await writer.append(writes, { actor: 'user:bench', correlationId: `bench-${r}` });
      onProgress?.(r * EVENTS_PER_RUN);
    }
    const writeMs = performance.now() - writeStarted;
    await writer.close();

    const store = createSqliteEventStore({ path });
    const head = await store.headPosition();
    const readStarted = performance.now();
    let read = 0;
    for (let after = 0; after < head; ) {
      const batch = await store.readAll({ after, limit: 4096 });
      if (batch.length === 0) break;
      read += batch.length;
      after = batch[batch.length - 1]!.position;
    }
    const readMs = performance.now() - readStarted;
    if (read !== head) throw new Error(`bare read saw ${read} of ${head} events`);

    // As a server does it: the read models in their own file, replaced whole at the swap.
    const result = await replayReadModels({
      store,
      replaceFile: (rebuilt) => replaceDatabaseFile(join(dir, READ_MODELS_FILE), rebuilt),
      projections: allProjections,
      shadowPath: join(dir, 'shadow.db'),
    });
    if (result.position !== head) throw new Error(`replay reached ${result.position} of ${head}`);
    await store.close();
    return {
      events: head,
      fileMb: (statSync(path).size + statSync(join(dir, READ_MODELS_FILE)).size) / 1024 / 1024,
      writeMs,
      bareRead: { ms: readMs, eventsPerS: (head / readMs) * 1000 },
      replay: { ms: result.ms, eventsPerS: result.eventsPerSecond, rows: result.rows },
      ratio: result.eventsPerSecond / ((head / readMs) * 1000),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
