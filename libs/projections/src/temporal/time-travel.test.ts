import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase, type EventStore } from '@chronicle/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allProjections, createReadModels, type ReadModels } from '../read-models.js';
import { ProjectionRunner } from '../runner/projection-runner.js';
import { generateRichHistory, type GeneratedHistory } from './history.test-support.js';
import { asOfSelect } from './as-of-views.js';
import { openTimeTravel, shadowWithPast, type TimeTravel } from './time-travel.js';

/** The log as it stood at `position`: what a replay "up to there" reads. */
function logUpTo(store: EventStore, position: number): EventStore {
  return {
    ...store,
    readAll: async ({ after, limit }) => (await store.readAll({ after, limit })).filter((e) => e.position <= position),
    headPosition: async () => position,
    onAppended: () => () => {},
  };
}

const attempt = (f: () => unknown) => {
  try {
    return f();
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
};

/** Every read-model query a user can ask about the generated entities, with its answer. */
function answers(read: ReadModels, h: GeneratedHistory): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const ask = (name: string, f: () => unknown) => {
    out[name] = attempt(f);
  };
  const page = <T extends { totalCount?: unknown }>(p: T) => ({ ...p, totalCount: typeof p.totalCount === 'function' ? (p.totalCount as () => number)() : p.totalCount });
  ask('experiments', () => read.experiments.list({ lifecycle: 'all' }));
  for (const id of h.experiments) {
    ask(`experiment ${id}`, () => read.experiments.get(id));
    ask(`experiment tags ${id}`, () => read.experiments.tags(id));
    ask(`experiment runs ${id}`, () => read.experiments.activeRunCount(id));
  }
  // The runs table: default page, a filtered and ordered search, one experiment, the second page.
  ask('runs', () => page(read.runs.search({ first: 20 })));
  ask('runs all', () => page(read.runs.search({ lifecycle: 'all', first: 1000 })));
  ask('runs filtered', () => page(read.runs.search({ filter: "metrics.loss > 0.3 and tags.k = 'v'", orderBy: ['metrics.loss DESC'], first: 50 })));
  ask('runs by acc', () => page(read.runs.search({ filter: 'metrics.acc IS NOT NULL', orderBy: ['metrics.acc ASC', 'params.p1 DESC'], first: 50 })));
  ask('runs of e1', () => page(read.runs.search({ experimentIds: ['e1'], first: 50 })));
  const first = attempt(() => read.runs.search({ first: 5 })) as { endCursor?: string | null };
  if (first.endCursor) ask('runs page 2', () => page(read.runs.search({ first: 5, after: first.endCursor! })));
  for (const id of h.runs) {
    ask(`run ${id}`, () => read.runs.get(id));
    ask(`run params ${id}`, () => read.runs.params(id));
    ask(`run tags ${id}`, () => read.runs.tags(id));
    ask(`run metrics ${id}`, () => read.runs.latestMetrics(id));
    ask(`run children ${id}`, () => read.runs.children(id));
    ask(`run artifacts ${id}`, () => read.artifacts.list(id));
    ask(`run inputs ${id}`, () => read.lineage.runInputs(id));
    ask(`run outputs ${id}`, () => read.lineage.runOutputs(id));
    ask(`run lineage ${id}`, () => read.lineage.lineage(`run:${id}`));
    ask(`metric keys ${id}`, () => read.metrics.keys(id));
    for (const key of ['loss', 'acc', 'big']) {
      ask(`history ${id} ${key}`, () => read.metrics.history(id, key, { first: 50 }));
      ask(`series ${id} ${key}`, () => read.metrics.series(id, key, 200));
    }
  }
  ask('big history tail', () => read.metrics.history(h.runs[0]!, 'big', { first: 1000, after: Buffer.from(JSON.stringify({ s: `history:${h.runs[0]}:big`, o: 20_000 })).toString('base64url') }));
  ask('big series 1000', () => read.metrics.series(h.runs[0]!, 'big', 1000));
  ask('big series 20', () => read.metrics.series(h.runs[0]!, 'big', 20));
  ask('models', () => read.models.list());
  for (const name of h.models) {
    ask(`model ${name}`, () => read.models.get(name));
    ask(`versions ${name}`, () => read.models.versions(name, { includeDeleted: true }));
    ask(`aliases ${name}`, () => read.models.aliases(name));
    for (const alias of ['champion', 'challenger']) {
      ask(`alias ${name} ${alias}`, () => read.models.alias(name, alias));
      ask(`alias history ${name} ${alias}`, () => read.models.aliasHistory(name, alias));
      ask(`resolve ${name}@${alias}`, () => read.models.resolve(`${name}@${alias}`));
    }
    for (const stage of ['Staging', 'Production'] as const) {
      ask(`stage history ${name} ${stage}`, () => read.models.stageHistory(name, stage));
      ask(`resolve ${name}/${stage}`, () => read.models.resolve(`models:/${name}/${stage}`));
    }
    ask(`resolve ${name}/1`, () => read.models.resolve(`${name}/1`));
    ask(`version lineage ${name}/1`, () => read.lineage.lineage(`model_version:${name}/1`));
  }
  ask('datasets', () => read.datasets.list());
  for (const name of h.datasets) {
    ask(`dataset ${name}`, () => read.datasets.get(name));
    ask(`dataset versions ${name}`, () => read.datasets.versions(name));
    ask(`dataset latest ${name}`, () => read.datasets.resolve(name, 'latest'));
    ask(`dataset prod ${name}`, () => read.datasets.resolve(name, 'prod'));
    ask(`dataset impact ${name}`, () => read.lineage.impact(`dataset_version:${name}@1`));
  }
  ask('environments', () => read.deployments.environments());
  for (const env of h.environments) {
    ask(`deployments ${env}`, () => read.deployments.list(env, { first: 100 }));
    ask(`environment history ${env}`, () => read.deployments.history(env));
    ask(`deployed now ${env}`, () => read.deployments.deployedAt(env, 2_000_000_000_000));
  }
  ask('unfinished deployments', () => read.deployments.unfinished());
  for (const name of h.models) ask(`deployed in ${name}/1`, () => read.deployments.deployedIn(name, 1));
  ask('users', () => read.users.list());
  ask('tokens', () => read.users.tokens());
  ask('webhooks', () => read.webhooks.active());
  ask('audit log', () => read.audit.log({}, { first: 1000 }));
  ask('audit of r0', () => read.audit.history('run-r0', { first: 1000 }));
  return out;
}

describe('time travel', () => {
  let dir: string;
  let h: GeneratedHistory;
  let travel: TimeTravel;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chronicle-time-travel-'));
    h = await generateRichHistory(join(dir, 'chronicle.db'), 7, 700);
    // Small batches: most positions asked about fall inside a batch, between two flushes.
    const db = (h.store as unknown as { db: ReturnType<typeof openSqliteDatabase> }).db;
    await new ProjectionRunner({ store: h.store, db, projections: allProjections, batchSize: 17 }).catchUp();
    travel = openTimeTravel({ path: join(dir, 'chronicle.db') });
  }, 120_000);

  afterAll(async () => {
    travel?.close();
    await h?.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers at a series of positions as read models built by replaying up to each position', async () => {
    const of = (type: string, i = 0) => h.positionsOfType.get(type)?.[i] ?? 1;
    const positions = [
      0,
      1,
      of('ModelAliasSet', 1),
      of('ModelAliasRemoved'),
      of('DeploymentSucceeded', 1) - 1,
      of('DeploymentSucceeded', 1),
      of('DatasetVersionTagged', 1),
      of('RunMetricsLogged', 40),
      Math.floor(h.head / 3),
      Math.floor((2 * h.head) / 3) + 5,
      ...(h.positionsOfType.get('RunMetricsLogged') ?? []).filter((_, i, all) => i === all.length - 1),
      h.head,
    ];
    // The big series must cross into the tiers before the end, or this checks raw reads only.
    expect((travel.at(h.head).metrics.series(h.runs[0]!, 'big', 1000)).level).toBeGreaterThan(0);
    for (const p of positions) {
      const fresh = openSqliteDatabase(':memory:');
      // Only ever read at its head: no versions needed, which also checks the runner without them.
      await new ProjectionRunner({ store: logUpTo(h.store, p), db: fresh, projections: allProjections, batchSize: 13, timeTravel: false }).catchUp();
      const expected = answers(createReadModels(fresh), h);
      const actual = answers(travel.at(p), h);
      for (const k of Object.keys(expected)) expect({ position: p, query: k, answer: actual[k] }).toEqual({ position: p, query: k, answer: expected[k] });
      fresh.close();
    }
  }, 300_000);

  it('shows at the head, row for row, what the live tables hold, for every read-model table', () => {
    const db = openSqliteDatabase(join(dir, 'chronicle.db'));
    let compared = 0;
    try {
      shadowWithPast(db, allProjections)(h.head);
      for (const p of allProjections)
        for (const t of p.tables) {
          if (asOfSelect(db, t) === null) continue;
          // Each row as SQLite's literal text: types, blobs and floats exactly.
          const cols = (db.prepare(`PRAGMA main.table_info(${t})`).all() as { name: string }[]).map((c) => c.name);
          const text = (schema: string) =>
            db.prepare(`SELECT ${cols.map((c) => `quote(${c})`).join(` || '|' || `)} FROM ${schema}.${t} ORDER BY ${cols.join(', ')}`).pluck().all();
          const live = text('main');
          if (live.length > 0) compared++;
          expect({ table: t, rows: text('temp') }).toEqual({ table: t, rows: live });
        }
    } finally {
      db.close();
    }
    expect(compared).toBeGreaterThan(30);
  });
});
