// aliasHistory on a model whose champion alias moved 10,000 times, asked "what did champion
// point at, at time T" for random T over HTTP + GraphQL.
// Baseline, same run: the cheapest GraphQL round trip (`{ __typename }`) on the same server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelStream, runStream, type DomainEvent } from '@chronicle/domain';
import { createSqliteEventStore, openSqliteDatabase } from '@chronicle/event-store';
import { gql, startChronicle } from '../support/chronicle-process.js';
import { stats, type Stats } from './support.js';

export interface AliasHistoryResult {
  moves: number;
  history: Stats;
  floor: Stats;
  projectMs: number;
}

const T0 = 1_700_000_000_000;
const VERSIONS = 50;
const MOVES_PER_APPEND = 100;
// One append per minute of simulated time, so the periods spread over a week.
const APPEND_EVERY_MS = 60_000;

async function seed(dataDir: string, moves: number): Promise<void> {
  const db = openSqliteDatabase(join(dataDir, 'chronicle.db'));
  let now = T0;
  const store = createSqliteEventStore({ db, clock: () => now });
  const stream = modelStream('bench-model');
  const runId = 'benchrun';
  const sha256 = 'a'.repeat(64);
  const setup: DomainEvent[] = [
    { type: 'ModelRegistered', data: { name: 'bench-model', description: '', tags: [], card: { intendedUse: '', limitations: '', trainingData: '', evaluation: '', owners: [] }, at: T0 } },
    ...Array.from({ length: VERSIONS }, (_, i) => ({
      type: 'ModelVersionCreated',
      data: { name: 'bench-model', version: i + 1, runId, artifactPath: 'model.bin', sha256, size: 1, format: null, signature: null, description: '', at: T0 },
    })),
  ];
  await store.append(
    [
      { stream: runStream(runId), expectedRevision: 'no_stream', events: [{ type: 'RunStarted', data: { runId, experimentId: '0', name: 'bench', tags: [], parentRunId: null, source: {}, environment: {}, startTime: T0 } }] },
      { stream, expectedRevision: 'no_stream', events: setup },
    ],
    { actor: 'system:bench' },
  );
  let revision = setup.length - 1;
  let previous: number | null = null;
  for (let done = 0; done < moves; done += MOVES_PER_APPEND) {
    now += APPEND_EVERY_MS;
    const events: DomainEvent[] = [];
    for (let i = done; i < Math.min(done + MOVES_PER_APPEND, moves); i++) {
      const version: number = (i % VERSIONS) + 1;
      events.push({ type: 'ModelAliasSet', data: { name: 'bench-model', alias: 'champion', version, previousVersion: previous, at: now } });
      previous = version;
    }
    await store.append([{ stream, expectedRevision: revision, events }], { actor: 'system:bench' });
    revision += events.length;
  }
  await store.close();
  db.close();
}

export async function benchAliasHistory(moves = 10_000, queries = 300): Promise<AliasHistoryResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chronicle-alias-bench-'));
  try {
    await seed(dataDir, moves);
    const started = performance.now();
    const server = await startChronicle({ dataDir }); // projects the seeded history on start
    const projectMs = performance.now() - started;
    try {
      const headers = { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' };
      const query = 'query($at: Float) { aliasHistory(model: "bench-model", alias: "champion", at: $at) { version fromTime toTime setBy } }';
      const end = T0 + Math.ceil(moves / MOVES_PER_APPEND) * APPEND_EVERY_MS;
      let x = 42;
      const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const time = async (q: string, vars: Record<string, unknown>) => {
        const t = performance.now();
        const r = await gql(server.url, q, vars, headers);
        if (r.body.errors) throw new Error(JSON.stringify(r.body.errors));
        return { ms: performance.now() - t, data: r.body.data as { aliasHistory?: { version: number; fromTime: number; toTime: number | null }[] } };
      };
      const full = await time(query, { at: null });
      if (full.data.aliasHistory!.length !== moves) throw new Error(`expected ${moves} periods, got ${full.data.aliasHistory!.length}`);
      for (let i = 0; i < 20; i++) await time(query, { at: T0 + rand() * (end - T0) }); // warm-up
      const historyMs: number[] = [];
      const floorMs: number[] = [];
      for (let i = 0; i < queries; i++) {
        const at = T0 + APPEND_EVERY_MS + rand() * (end - T0 - APPEND_EVERY_MS);
        const s = await time(query, { at });
        const periods = s.data.aliasHistory!;
        if (periods.length < 1 || periods.some((p) => p.fromTime > at || (p.toTime !== null && p.toTime < at)))
          throw new Error(`aliasHistory at ${at} answered periods that do not cover it`);
        historyMs.push(s.ms);
        floorMs.push((await time('{ __typename }', {})).ms);
      }
      return { moves, history: stats(historyMs), floor: stats(floorMs), projectMs };
    } finally {
      await server.dispose();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
