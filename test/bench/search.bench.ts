// `runs` search over 10,000 runs with 20 params and 10 metrics each: a filter on a metric and
// a param, ordered by a metric, first 50. Baseline, same run: the same page with no filter
// and no ordering, and the cheapest GraphQL round trip.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { experimentStream, runStream, type DomainEvent } from '@chronicle/domain';
import { createSqliteEventStore, openSqliteDatabase, type StreamWrite } from '@chronicle/event-store';
import { gql, startChronicle } from '../support/chronicle-process.js';
import { stats, type Stats } from './support.js';

export interface SearchResult {
  runs: number;
  projectMs: number;
  search: Stats;
  unfiltered: Stats;
  floor: Stats;
  matched: number;
}

/** Writes the history straight to the event store, as events, in large atomic appends. */
async function seed(dataDir: string, runs: number): Promise<void> {
  const db = openSqliteDatabase(join(dataDir, 'chronicle.db'));
  const store = createSqliteEventStore({ db });
  const t0 = 1_700_000_000_000;
  await store.append(
    [
      {
        stream: experimentStream('bench'),
        expectedRevision: 'no_stream',
        events: [{ type: 'ExperimentCreated', data: { experimentId: 'bench', name: 'search-bench', description: '', tags: [], createdAt: t0 } }],
      },
    ],
    { actor: 'system:bench' },
  );
  let x = 12345;
  const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let from = 0; from < runs; from += 500) {
    const writes: StreamWrite[] = [];
    for (let i = from; i < Math.min(from + 500, runs); i++) {
      const runId = `run${String(i).padStart(6, '0')}`;
      const events: DomainEvent[] = [
        {
          type: 'RunStarted',
          data: { runId, experimentId: 'bench', name: `run-${i}`, tags: [{ key: 'team', value: `t${i % 7}` }], parentRunId: null, source: {}, environment: {}, startTime: t0 + i },
        },
        { type: 'RunParamsLogged', data: { runId, params: Array.from({ length: 20 }, (_, p) => ({ key: `p${p}`, value: `v${Math.floor(rand() * 10)}` })) } },
        {
          type: 'RunMetricsLogged',
          data: { runId, series: Array.from({ length: 10 }, (_, m) => ({ key: `m${m}`, steps: [0], values: [rand()], timestamps: [t0 + i] })) },
        },
      ];
      writes.push({ stream: runStream(runId), expectedRevision: 'no_stream', events });
    }
    await store.append(writes, { actor: 'system:bench' });
  }
  await store.close();
  db.close();
}

export async function benchSearch(runs = 10_000, queries = 300): Promise<SearchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chronicle-search-bench-'));
  try {
    await seed(dataDir, runs);
    const t = performance.now();
    const server = await startChronicle({ dataDir }); // projects the seeded history on start
    const projectMs = performance.now() - t;
    try {
      const headers = { authorization: `Bearer ${server.adminToken}` };
      const q = 'query($f: String, $o: [String!]) { runs(experimentIds: ["bench"], filter: $f, orderBy: $o, first: 50) { nodes { id name metrics { key value } } } }';
      const filtered = { f: "metrics.m0 > 0.5 and params.p3 = 'v3'", o: ['metrics.m1 DESC'] };
      const time = async (query: string, vars: Record<string, unknown>) => {
        const s = performance.now();
        const r = await gql(server.url, query, vars, headers);
        if (r.body.errors) throw new Error(JSON.stringify(r.body.errors));
        return { ms: performance.now() - s, r };
      };
      for (let i = 0; i < 20; i++) await time(q, filtered);
      const search: number[] = [];
      const unfiltered: number[] = [];
      const floor: number[] = [];
      let matched = 0;
      for (let i = 0; i < queries; i++) {
        const s = await time(q, filtered);
        search.push(s.ms);
        matched = s.r.body.data.runs.nodes.length;
        unfiltered.push((await time(q, { f: null, o: [] })).ms);
        floor.push((await time('{ __typename }', {})).ms);
      }
      return { runs, projectMs, search: stats(search), unfiltered: stats(unfiltered), floor: stats(floor), matched };
    } finally {
      await server.kill('SIGKILL');
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
