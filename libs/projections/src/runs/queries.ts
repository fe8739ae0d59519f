import { ValidationFailed, type KeyValue, type RunSource, type RunStatus } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';
import type { Statement } from 'better-sqlite3';
import { filterToSql, orderByToSql, parseFilter, parseOrderBy } from '@chronicle/filter';
import type { Lifecycle } from '../experiments/queries.js';
import { decodePage, toPage, type Page, type PageArgs } from '../pagination.js';

export interface RunView {
  runId: string;
  experimentId: string;
  name: string;
  status: RunStatus;
  lifecycle: 'active' | 'deleted';
  startTime: number;
  endTime: number | null;
  parentRunId: string | null;
  userId: string;
  source: RunSource;
  environment: Record<string, unknown>;
  updatedAt: number;
}

export interface LatestMetric {
  key: string;
  value: number;
  step: number;
  timestamp: number;
  count: number;
}

interface Row {
  run_id: string;
  experiment_id: string;
  name: string;
  status: RunStatus;
  lifecycle: 'active' | 'deleted';
  start_time: number;
  end_time: number | null;
  parent_run_id: string | null;
  user_id: string;
  source: string;
  environment: string;
  updated_at: number;
}

const toView = (r: Row): RunView => ({
  runId: r.run_id,
  experimentId: r.experiment_id,
  name: r.name,
  status: r.status,
  lifecycle: r.lifecycle,
  startTime: r.start_time,
  endTime: r.end_time,
  parentRunId: r.parent_run_id,
  userId: r.user_id,
  source: JSON.parse(r.source),
  environment: JSON.parse(r.environment),
  updatedAt: r.updated_at,
});

export interface RunSearch extends PageArgs {
  /** The largest page a caller may ask for; MAX_PAGE unless the API promises more (MLflow: 50,000). */
  maxPage?: number;
  experimentIds?: readonly string[];
  filter?: string | null;
  orderBy?: readonly string[];
  lifecycle?: Lifecycle;
}

const MAX_EXPERIMENTS = 1000;

export function runQueries(db: SqliteDatabase) {
  const byId = db.prepare<[string], Row>('SELECT * FROM rm_runs WHERE run_id = ?');
  const params = db.prepare<[string], KeyValue>('SELECT key, value FROM rm_run_params WHERE run_id = ? ORDER BY key');
  const tags = db.prepare<[string], KeyValue>('SELECT key, value FROM rm_run_tags WHERE run_id = ? ORDER BY key');
  const metrics = db.prepare<[string], { key: string; value: number | null; is_nan: number; step: number; timestamp: number; count: number }>(
    'SELECT key, value, is_nan, step, timestamp, count FROM rm_run_metrics WHERE run_id = ? ORDER BY key',
  );
  const children = db.prepare<[string], Row>('SELECT * FROM rm_runs WHERE parent_run_id = ? ORDER BY start_time');
  const byIds = db.prepare<[string], Row>('SELECT * FROM rm_runs WHERE run_id IN (SELECT value FROM json_each(?))');
  type Entry = { run_id: string; key: string; value: string };
  const manyParams = db.prepare<[string], Entry>(
    'SELECT run_id, key, value FROM rm_run_params WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, key',
  );
  const manyTags = db.prepare<[string], Entry>(
    'SELECT run_id, key, value FROM rm_run_tags WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, key',
  );
  const manyMetrics = db.prepare<
    [string],
    { run_id: string; key: string; value: number | null; is_nan: number; step: number; timestamp: number; count: number }
  >(
    'SELECT run_id, key, value, is_nan, step, timestamp, count FROM rm_run_metrics WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, key',
  );

  /** Compiles a search once; statements are cached by SQL text since UIs repeat the same few queries. */
  const statements = new Map<string, Statement<unknown[]>>();
  function prepared(sql: string) {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      if (statements.size > 500) statements.clear();
      statements.set(sql, s);
    }
    return s;
  }

  function where(search: RunSearch): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const args: unknown[] = [];
    const ids = search.experimentIds ?? [];
    if (ids.length > MAX_EXPERIMENTS)
      throw new ValidationFailed(`search at most ${MAX_EXPERIMENTS} experiments at once`, { field: 'experimentIds' });
    if (ids.length > 0) {
      clauses.push(`r.experiment_id IN (${ids.map(() => '?').join(',')})`);
      args.push(...ids);
    }
    const lifecycle = search.lifecycle ?? 'active';
    if (lifecycle !== 'all') {
      clauses.push('r.lifecycle = ?');
      args.push(lifecycle);
    }
    const filter = filterToSql(parseFilter(search.filter ?? ''));
    if (filter.sql) {
      clauses.push(`(${filter.sql})`);
      args.push(...filter.params);
    }
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params: args };
  }

  return {
    get: (runId: string) => {
      const r = byId.get(runId);
      return r ? toView(r) : null;
    },
    params: (runId: string) => params.all(runId),
    tags: (runId: string) => tags.all(runId),
    latestMetrics: (runId: string): LatestMetric[] =>
      metrics.all(runId).map((m) => ({
        key: m.key,
        value: m.is_nan ? Number.NaN : (m.value as number),
        step: m.step,
        timestamp: m.timestamp,
        count: m.count,
      })),
    children: (runId: string) => children.all(runId).map(toView),
    /** Params, tags and latest metrics of many runs in three queries, for pages of search results. */
    details(runIds: readonly string[]): Map<string, { params: KeyValue[]; tags: KeyValue[]; metrics: LatestMetric[] }> {
      const out = new Map<string, { params: KeyValue[]; tags: KeyValue[]; metrics: LatestMetric[] }>();
      for (const id of runIds) out.set(id, { params: [], tags: [], metrics: [] });
      if (runIds.length === 0) return out;
      const ids = JSON.stringify(runIds);
      for (const r of manyParams.iterate(ids)) out.get(r.run_id)!.params.push({ key: r.key, value: r.value });
      for (const r of manyTags.iterate(ids)) out.get(r.run_id)!.tags.push({ key: r.key, value: r.value });
      for (const m of manyMetrics.iterate(ids))
        out.get(m.run_id)!.metrics.push({
          key: m.key,
          value: m.is_nan ? Number.NaN : (m.value as number),
          step: m.step,
          timestamp: m.timestamp,
          count: m.count,
        });
      return out;
    },
    /** One page of runs; `totalCount` runs the count only if asked, with the filter compiled once. */
    search(search: RunSearch): Page<RunView> & { totalCount: () => number } {
      const scope = 'runs';
      const { offset, limit } = decodePage(scope, search, search.maxPage);
      const w = where(search);
      const order = orderByToSql(parseOrderBy([...(search.orderBy ?? [])]));
      // The page's ids first, then its rows: as of a past position some columns are subqueries
      // (a run's last touch), and a sort of whole rows would compute them for every run.
      const sql = `SELECT r.run_id FROM rm_runs r ${w.sql} ORDER BY ${order.sql} LIMIT ? OFFSET ?`;
      const ids = prepared(sql).pluck().all(...w.params, ...order.params, limit + 1, offset) as string[];
      const rowOf = new Map(byIds.all(JSON.stringify(ids)).map((r) => [r.run_id, r]));
      return {
        ...toPage(scope, ids.map((id) => toView(rowOf.get(id)!)), offset, limit),
        totalCount: () => (prepared(`SELECT count(*) AS n FROM rm_runs r ${w.sql}`).get(...w.params) as { n: number }).n,
      };
    },
  };
}
