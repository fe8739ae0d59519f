// Time travel on a history of N events (a realistic mix: runs whose metric batches dominate,
// plus models whose champion alias keeps moving, deployments to a few environments and dataset
// commits, all spread over the log): GraphQL queries with `asOf` at random positions, each
// beside the same query without `asOf`, over HTTP to a real server process.
// Also the cost of keeping the past: replaying the same log with and without time travel.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetStream, environmentStream, modelStream, type DomainEvent } from '@chronicle/domain';
import { createSqliteEventStore, openSqliteDatabase, type StreamWrite } from '@chronicle/event-store';
import { allProjections, metricHistoryProjection, READ_MODELS_FILE, replaceDatabaseFile, replayReadModels } from '@chronicle/projections';
import { gql, startChronicle } from '../support/chronicle-process.js';
import { stats, type Stats } from './support.js';
import { runEvents } from './verify.bench.js';

const EVENTS_PER_RUN = 100;
const RUNS_PER_APPEND = 20;
const MODELS = 100;
const VERSIONS = 5;
const ENVIRONMENTS = 5;
const DATASETS = 20;

export interface AsOfQueryFigures {
  name: string;
  asOf: Stats;
  now: Stats;
}

export interface AsOfBenchResult {
  events: number;
  fileMb: number;
  writeMs: number;
  replay: { withHistory: { ms: number; eventsPerS: number }; without: { ms: number; eventsPerS: number }; ratio: number };
  historyMb: number;
  queries: AsOfQueryFigures[];
}

const card = { intendedUse: 'churn', limitations: '', trainingData: '', evaluation: '', owners: ['ada'] };

/** Registry, deployment and dataset events for append number `i`, so they spread over the log. */
function registryWrites(i: number, at: number, rand: () => number): StreamWrite[] {
  const writes: StreamWrite[] = [];
  const model = `model-${Math.floor(rand() * MODELS)}`;
  writes.push({
    stream: modelStream(model),
    expectedRevision: 'any',
    events: [{ type: 'ModelAliasSet', data: { name: model, alias: 'champion', version: 1 + Math.floor(rand() * VERSIONS), previousVersion: null, at } }],
  });
  const env = `env-${i % ENVIRONMENTS}`;
  const deploymentId = `dep-${i}`;
  const version = 1 + Math.floor(rand() * VERSIONS);
  writes.push({
    stream: environmentStream(env),
    expectedRevision: 'any',
    events: [
      { type: 'DeploymentRequested', data: { environment: env, deploymentId, model, version, sha256: 'a'.repeat(64), artifactPath: 'model.bin', reason: `release ${i}`, rollbackOf: null, restores: null, at } },
      { type: 'DeploymentStarted', data: { environment: env, deploymentId, at } },
      { type: 'DeploymentAttemptRecorded', data: { environment: env, deploymentId, attempt: 1, phase: 'deploy', statusCode: 200, exitCode: null, durationMs: 12, error: null, output: 'ok', at } },
      { type: 'DeploymentSucceeded', data: { environment: env, deploymentId, at } },
    ],
  });
  if (i % 2 === 0) {
    const name = `ds-${(i / 2) % DATASETS}`;
    const v = Math.floor(i / 2 / DATASETS) + 1;
    writes.push({
      stream: datasetStream(name),
      expectedRevision: 'any',
      events: [
        {
          type: 'DatasetVersionCommitted',
          data: { name, version: v, versionId: `${name}@${v}`, parentVersion: v === 1 ? null : v - 1, manifestSha256: String(v).padStart(64, '0'), fileCount: v, totalBytes: v * 1000, tabular: [], message: `v${v}`, author: 'ada', tags: [], at },
        },
      ],
    });
  }
  return writes;
}

/** Models, versions, environments and datasets, created in the first append. */
function setupWrites(at: number): StreamWrite[] {
  const writes: StreamWrite[] = [];
  for (let m = 0; m < MODELS; m++) {
    const name = `model-${m}`;
    const events: DomainEvent[] = [{ type: 'ModelRegistered', data: { name, description: '', tags: [], card, at } }];
    for (let v = 1; v <= VERSIONS; v++)
      events.push({ type: 'ModelVersionCreated', data: { name, version: v, runId: 'r0', artifactPath: 'model.bin', sha256: 'a'.repeat(64), size: 1, format: null, signature: null, description: '', at } });
    writes.push({ stream: modelStream(name), expectedRevision: 'no_stream', events });
  }
  for (let e = 0; e < ENVIRONMENTS; e++) {
    const name = `env-${e}`;
    writes.push({ stream: environmentStream(name), expectedRevision: 'no_stream', events: [{ type: 'EnvironmentCreated', data: { name, target: { kind: 'command', argv: ['true'], timeoutMs: 1000 }, healthCheck: null, at } }] });
  }
  for (let d = 0; d < DATASETS; d++)
    writes.push({ stream: datasetStream(`ds-${d}`), expectedRevision: 'no_stream', events: [{ type: 'DatasetCreated', data: { name: `ds-${d}`, description: '', at } }] });
  return writes;
}

/** Writes the history; returns the position from which every model, environment and dataset has a version. */
async function seed(path: string, events: number): Promise<{ writeMs: number; allExistAt: number }> {
  let now = 1_700_000_000_000;
  const writer = createSqliteEventStore({ path, clock: () => (now += 1000) });
  writer.db.pragma('synchronous = OFF');
  let x = 7;
  const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const started = performance.now();
  await writer.append(setupWrites(now), { actor: 'user:bench' });
  const runs = Math.ceil(events / EVENTS_PER_RUN);
  let allExistAt = 0;
  for (let r = 0, i = 0; r < runs; r += RUNS_PER_APPEND, i++) {
    const writes: StreamWrite[] = [];
    for (let k = r; k < Math.min(runs, r + RUNS_PER_APPEND); k++) writes.push({ stream: `run-r${k}`, expectedRevision: 'no_stream', events: runEvents(`r${k}`, k) });
    writes.push(...registryWrites(i, now, rand));
    const res = await writer.append(writes, { actor: 'user:bench', correlationId: `bench-${r}` });
    // Datasets get their first version one by one, every other append.
    if (i === 2 * DATASETS) allExistAt = res.events[res.events.length - 1]!.position;
  }
  await writer.close();
  if (allExistAt === 0) throw new Error(`${events} events are too few for every dataset to get a version`);
  return { writeMs: performance.now() - started, allExistAt };
}

async function timedReplay(path: string, timeTravel: boolean, scratch: string): Promise<{ ms: number; eventsPerS: number }> {
  const store = createSqliteEventStore({ path });
  try {
    // Without time travel there are neither versions tables nor the metric history it reads.
    const projections = timeTravel ? allProjections : allProjections.filter((p) => p !== metricHistoryProjection);
    const r = await replayReadModels({
      store,
      replaceFile: (rebuilt) => replaceDatabaseFile(join(scratch, READ_MODELS_FILE), rebuilt),
      projections,
      shadowPath: join(scratch, 'shadow.db'),
      timeTravel,
    });
    return { ms: r.ms, eventsPerS: r.eventsPerSecond };
  } finally {
    await store.close();
  }
}

export async function benchAsOf(events: number, samples: number): Promise<AsOfBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chronicle-asof-bench-'));
  const path = join(dataDir, 'chronicle.db');
  try {
    const { writeMs, allExistAt } = await seed(path, events);
    // The cost of keeping the past, same log, same run: without, then with (which stays).
    const without = await timedReplay(path, false, dataDir);
    const withHistory = await timedReplay(path, true, dataDir);
    const db = openSqliteDatabase(join(dataDir, READ_MODELS_FILE));
    // Pages of the versions tables, their indexes and the metric history: what keeping the past costs on disk.
    const historyBytes =
      (db.prepare("SELECT sum(pgsize) AS b FROM dbstat WHERE name LIKE '%\\_\\_versions%' ESCAPE '\\' OR name LIKE 'rm_metric_history%'").get() as { b: number | null }).b ?? 0;
    const head = (db.prepare("SELECT min(position) AS p FROM projection_checkpoints").get() as { p: number }).p;
    db.close();

    const server = await startChronicle({ dataDir });
    try {
      const headers = { authorization: `Bearer ${server.adminToken}` };
      let x = 42;
      const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
      const pick = (n: number) => Math.floor(rand() * n);
      const run = async (query: string, variables: Record<string, unknown>) => {
        const t = performance.now();
        const r = await gql(server.url, query, variables, headers);
        if (r.body.errors) throw new Error(`${query}: ${JSON.stringify(r.body.errors)}`);
        return performance.now() - t;
      };
      const shapes: { name: string; query: string; vars: () => Record<string, unknown> }[] = [
        {
          name: 'runs table page (50 runs with their latest metrics, total count)',
          query: 'query($asOf: AsOf) { runs(first: 50, asOf: $asOf) { totalCount nodes { id name status startTime metrics { key value step } } } }',
          vars: () => ({}),
        },
        {
          name: "a model's aliases and versions",
          query: 'query($m: String!, $asOf: AsOf) { model(name: $m, asOf: $asOf) { latestVersion aliases { alias version setAt } versions { version stage aliases } } }',
          vars: () => ({ m: `model-${pick(MODELS)}` }),
        },
        {
          name: 'what was deployed where (environments, live version, last 20 deployments of one)',
          query: 'query($e: String!, $asOf: AsOf) { environments(asOf: $asOf) { name live { model version deployedBy } } deployments(environment: $e, first: 20, asOf: $asOf) { nodes { id model version status } } }',
          vars: () => ({ e: `env-${pick(ENVIRONMENTS)}` }),
        },
        {
          name: "a dataset's latest version",
          query: 'query($d: String!, $asOf: AsOf) { datasetVersion(dataset: $d, version: "latest", asOf: $asOf) { version fileCount totalBytes } }',
          vars: () => ({ d: `ds-${pick(DATASETS)}` }),
        },
      ];
      const queries: AsOfQueryFigures[] = [];
      for (const shape of shapes) {
        // Positions where every entity asked about exists (and the runs table is never empty).
        const position = () => allExistAt + pick(head - allExistAt);
        for (let i = 0; i < 10; i++) await run(shape.query, { ...shape.vars(), asOf: position() }); // warm-up
        const asOf: number[] = [];
        const now: number[] = [];
        for (let i = 0; i < samples; i++) {
          const vars = shape.vars();
          asOf.push(await run(shape.query, { ...vars, asOf: position() }));
          now.push(await run(shape.query, vars));
        }
        queries.push({ name: shape.name, asOf: stats(asOf), now: stats(now) });
      }
      return {
        events: head,
        fileMb: (statSync(path).size + statSync(join(dataDir, READ_MODELS_FILE)).size) / 1024 / 1024,
        writeMs,
        replay: { withHistory, without, ratio: withHistory.eventsPerS / without.eventsPerS },
        historyMb: historyBytes / 1024 / 1024,
        queries,
      };
    } finally {
      await server.dispose();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
