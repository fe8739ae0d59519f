import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseFilter, parseOrderBy } from './parse.js';
import { filterToSql, orderByToSql } from './to-sql.js';

const SCHEMA = `
CREATE TABLE rm_runs (
  run_id TEXT PRIMARY KEY, experiment_id TEXT NOT NULL, name TEXT NOT NULL,
  status TEXT NOT NULL, lifecycle TEXT NOT NULL,
  start_time INTEGER NOT NULL, end_time INTEGER,
  parent_run_id TEXT, user_id TEXT NOT NULL
);
CREATE TABLE rm_run_params  (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key)) WITHOUT ROWID;
CREATE TABLE rm_run_tags    (run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key)) WITHOUT ROWID;
CREATE TABLE rm_run_metrics (run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL, is_nan INTEGER NOT NULL DEFAULT 0,
                             step INTEGER NOT NULL, timestamp INTEGER NOT NULL, PRIMARY KEY (run_id, key)) WITHOUT ROWID;
CREATE INDEX rm_run_params_kv ON rm_run_params (key, value);
CREATE INDEX rm_run_tags_kv ON rm_run_tags (key, value);
CREATE INDEX rm_run_metrics_kv ON rm_run_metrics (key, value);
`;

type Run = [id: string, experiment: string, name: string, status: string, lifecycle: string,
  start: number, end: number | null, parent: string | null, user: string];
const RUNS: Run[] = [
  ['r1', '1', 'baseline', 'FINISHED', 'active', 1000, 2000, null, 'alice'],
  ['r2', '1', 'Baseline-v2', 'FINISHED', 'active', 2000, 3500, null, 'bob'],
  ['r3', '1', 'resnet big', 'FAILED', 'active', 3000, 3100, null, 'alice'],
  ['r4', '2', 'child_of_r1', 'RUNNING', 'active', 4000, null, 'r1', 'carol'],
  ['r5', '2', 'old', 'KILLED', 'deleted', 500, 600, null, 'bob'],
  // Starts with r2, to exercise the run_id tie-breaker.
  ['r6', '2', "quote's run", 'FINISHED', 'active', 2000, 2500, null, 'alice'],
];
const ALL = RUNS.map(([id]) => id);
const METRICS: Array<[string, string, number]> = [
  ['r1', 'acc', 0.8], ['r2', 'acc', 0.9], ['r3', 'acc', Number.NaN], ['r4', 'acc', 0.5],
  ['r1', 'train/loss', 0.25], ['r2', 'train/loss', 0.1], ['r3', 'train/loss', Infinity], ['r6', 'train/loss', 1e-3],
  ['r2', 'my metric', 7],
];
const PARAMS: Array<[string, string, string]> = [
  ['r1', 'lr', '0.01'], ['r2', 'lr', '1e-3'], ['r3', 'lr', 'auto'], ['r4', 'lr', '0.1'], ['r6', 'lr', '10'],
  ['r1', 'model.depth', '50'], ['r2', 'model.depth', '101'], ['r4', 'model.depth', '50'],
  ['r1', 'optimizer', 'Adam'], ['r2', 'optimizer', 'adamw'], ['r3', 'optimizer', 'SGD'],
];
const TAGS: Array<[string, string, string]> = [
  ['r1', 'mlflow.user', 'alice'], ['r2', 'mlflow.user', 'bob'],
  ['r1', 'team', 'vision'], ['r2', 'team', 'Vision'], ['r3', 'team', 'nlp'], ['r6', 'team', "o'brien"],
  ['r2', 'release note', 'x'],
];

let db: Database.Database;

beforeAll(() => {
  db = new Database(':memory:');
  db.pragma('case_sensitive_like = ON');
  db.exec(SCHEMA);
  const run = db.prepare('INSERT INTO rm_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  for (const r of RUNS) run.run(...r);
  const metric = db.prepare(
    'INSERT INTO rm_run_metrics (run_id, key, value, is_nan, step, timestamp) VALUES (?, ?, ?, ?, 0, 0)',
  );
  for (const [id, key, value] of METRICS) {
    metric.run(id, key, Number.isNaN(value) ? null : value, Number.isNaN(value) ? 1 : 0);
  }
  const param = db.prepare('INSERT INTO rm_run_params VALUES (?, ?, ?)');
  for (const p of PARAMS) param.run(...p);
  const tag = db.prepare('INSERT INTO rm_run_tags VALUES (?, ?, ?)');
  for (const t of TAGS) tag.run(...t);
});

function search(filter: string, orderBy: string[] = []): string[] {
  const where = filterToSql(parseFilter(filter));
  const order = orderByToSql(parseOrderBy(orderBy));
  const statement = db.prepare(`SELECT r.run_id FROM rm_runs r WHERE ${where.sql} ORDER BY ${order.sql}`);
  return statement.pluck().all(...where.params, ...order.params) as string[];
}

function except(...ids: string[]): string[] {
  return ALL.filter((id) => !ids.includes(id));
}

describe('filterToSql selects exactly the matching runs', () => {
  const cases: Array<[string, string[]]> = [
    ['', ALL],
    // metrics
    ['metrics.acc > 0.7', ['r1', 'r2']],
    ['metrics.acc >= 0.8', ['r1', 'r2']],
    ['metrics.acc <= 0.5', ['r4']],
    ["metrics.acc > '0.85'", ['r2']],
    ['metrics.acc = NaN', ['r3']],
    ['metrics.acc != NaN', ['r1', 'r2', 'r4']],
    ['metrics.acc != 0.8', ['r2', 'r4']],
    ['metrics.acc IN (0.5, NaN)', ['r3', 'r4']],
    ['metrics.acc NOT IN (0.5, 0.8)', ['r2']],
    ['metrics.acc NOT IN (NaN)', ['r1', 'r2', 'r4']],
    ['metrics.acc IS NULL', ['r5', 'r6']],
    ['metrics.acc IS NOT NULL', ['r1', 'r2', 'r3', 'r4']],
    ['NOT metrics.acc > 0.7', ['r3', 'r4', 'r5', 'r6']],
    ['metrics.train/loss = Infinity', ['r3']],
    ['metrics.train/loss < Infinity', ['r1', 'r2', 'r6']],
    ['metrics.`train/loss` > -Infinity', ['r1', 'r2', 'r3', 'r6']],
    ['metrics.train/loss < 1e-2', ['r6']],
    ['metrics."my metric" = 7', ['r2']],
    // params: a string literal compares text, a number literal compares numbers
    ["params.lr = '0.01'", ['r1']],
    ["params.lr < '0.05'", ['r1']],
    ['params.lr < 0.05', ['r1', 'r2']],
    ['params.lr >= 0.1', ['r4', 'r6']],
    ['params.lr = 0.001', ['r2']],
    ['params.lr != 10', ['r1', 'r2', 'r3', 'r4']],
    ["params.lr IN ('auto', 0.1)", ['r3', 'r4']],
    ["params.lr NOT IN ('auto', 0.1)", ['r1', 'r2', 'r6']],
    ["params.model.depth = '50'", ['r1', 'r4']],
    ["params.optimizer LIKE 'Adam%'", ['r1']],
    ["params.optimizer ILIKE 'adam%'", ['r1', 'r2']],
    ["params.optimizer NOT LIKE 'Adam%'", ['r2', 'r3']],
    ["params.optimizer NOT ILIKE 'ADAM%'", ['r3']],
    ["params.optimizer != 'SGD'", ['r1', 'r2']],
    ["NOT params.optimizer = 'SGD'", except('r3')],
    ['params.optimizer IS NULL', ['r4', 'r5', 'r6']],
    // tags
    ["tags.\"mlflow.user\" = 'alice'", ['r1']],
    ["tags.mlflow.user = 'bob'", ['r2']],
    ["tags.team = 'o''brien'", ['r6']],
    ["tags.team = \"o'brien\"", ['r6']],
    ["tags.team = 'o\\'brien'", ['r6']],
    ["tags.team ILIKE 'VISION'", ['r1', 'r2']],
    ["tags.team LIKE 'v_sion'", ['r1']],
    ['tags.`release note` IS NOT NULL', ['r2']],
    // attributes
    ["attributes.status = 'FINISHED'", ['r1', 'r2', 'r6']],
    ["status != 'FINISHED'", ['r3', 'r4', 'r5']],
    ["attributes.status IN ('FAILED', 'KILLED')", ['r3', 'r5']],
    ["status NOT IN ('FAILED', 'KILLED')", ['r1', 'r2', 'r4', 'r6']],
    ["run_name LIKE '%aseline%'", ['r1', 'r2']],
    ["name ILIKE 'BASELINE%'", ['r1', 'r2']],
    ["attributes.`run name` = 'quote''s run'", ['r6']],
    ['attributes.start_time >= 2000', ['r2', 'r3', 'r4', 'r6']],
    ['created < 1000', ['r5']],
    ['start_time IN (500, 4000)', ['r4', 'r5']],
    ['end_time IS NULL', ['r4']],
    ['end_time > 3000', ['r2', 'r3']],
    ["attributes.parent_run_id = 'r1'", ['r4']],
    ['parent_run_id IS NULL', except('r4')],
    ["lifecycle_stage = 'deleted'", ['r5']],
    ["user = 'alice'", ['r1', 'r3', 'r6']],
    ["run_id IN ('r1', 'r2')", ['r1', 'r2']],
    ["id = 'r3'", ['r3']],
    ["experiment_id = '2'", ['r4', 'r5', 'r6']],
    // boolean structure
    ["metrics.acc > 0.85 OR params.optimizer = 'SGD' AND status = 'FINISHED'", ['r2']],
    ["metrics.acc > 0.85 OR params.optimizer = 'SGD' AND status = 'FAILED'", ['r2', 'r3']],
    ["(metrics.acc > 0.85 OR params.optimizer = 'SGD') AND status = 'FINISHED'", ['r2']],
    ["NOT (status = 'FINISHED' OR status = 'RUNNING')", ['r3', 'r5']],
    ["NOT status = 'FINISHED' AND user = 'alice'", ['r3']],
    ["metrics.acc > 0.7 and not params.optimizer like 'Adam%'", ['r2']],
    ["metrics.acc > 0.7 AND tags.team ILIKE 'vision' AND params.model.depth = '101'", ['r2']],
  ];

  it.each(cases)('%s', (filter, expected) => {
    expect(search(filter).sort()).toEqual([...expected].sort());
  });

  it('returns TRUE for no filter', () => {
    expect(filterToSql(null)).toEqual({ sql: 'TRUE', params: [] });
  });

  it('binds keys and values as parameters, never as SQL text', () => {
    const key = "x'; DROP TABLE rm_runs; --";
    const value = "a' OR 1=1 --";
    const { sql, params } = filterToSql(parseFilter(`params.\`${key}\` = '${value.replace("'", "''")}'`));
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain('1=1');
    expect(params).toEqual([key, value]);
    expect(search(`params.\`${key}\` = '${value.replace("'", "''")}'`)).toEqual([]);
    expect(search('')).toHaveLength(RUNS.length);
  });

  it('looks metrics, params and tags up by their primary key', () => {
    const { sql, params } = filterToSql(
      parseFilter("metrics.acc > 0.5 AND params.lr < 0.05 AND NOT tags.team LIKE 'v%'"),
    );
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN SELECT r.run_id FROM rm_runs r WHERE ${sql}`)
      .all(...params) as Array<{ detail: string }>;
    const details = plan.map((row) => row.detail);
    for (const alias of ['m', 'p', 't']) {
      const lookup = new RegExp(`^SEARCH ${alias} (EXISTS )?USING PRIMARY KEY \\(run_id=\\? AND key=\\?\\)`);
      expect(details).toContainEqual(expect.stringMatching(lookup));
      expect(details).not.toContainEqual(expect.stringMatching(new RegExp(`^SCAN ${alias}\\b`)));
    }
  });
});

describe('orderByToSql', () => {
  const cases: Array<[string[], string[]]> = [
    // tie-breakers only: start_time DESC, then run_id ASC (r2 and r6 start together)
    [[], ['r4', 'r3', 'r2', 'r6', 'r1', 'r5']],
    // numbers, then NaN (r3), then runs without the metric in tie-breaker order
    [['metrics.acc DESC'], ['r2', 'r1', 'r4', 'r3', 'r6', 'r5']],
    [['metrics.acc'], ['r4', 'r1', 'r2', 'r3', 'r6', 'r5']],
    [['metrics.train/loss DESC'], ['r3', 'r1', 'r2', 'r6', 'r4', 'r5']],
    // params sort as text; runs without the param last
    [['params.lr DESC'], ['r3', 'r2', 'r6', 'r4', 'r1', 'r5']],
    [['params.lr ASC'], ['r1', 'r4', 'r6', 'r2', 'r3', 'r5']],
    [['tags.team'], ['r2', 'r3', 'r6', 'r1', 'r4', 'r5']],
    // a missing end_time sorts last in both directions
    [['end_time DESC'], ['r2', 'r3', 'r6', 'r1', 'r5', 'r4']],
    [['attributes.end_time'], ['r5', 'r1', 'r6', 'r3', 'r2', 'r4']],
    [['attributes.start_time ASC'], ['r5', 'r1', 'r2', 'r6', 'r3', 'r4']],
    [['run_id DESC'], ['r6', 'r5', 'r4', 'r3', 'r2', 'r1']],
    [['status', 'metrics.acc DESC'], ['r3', 'r2', 'r1', 'r6', 'r5', 'r4']],
    [['run_name'], ['r2', 'r1', 'r4', 'r5', 'r6', 'r3']],
  ];

  it.each(cases)('%j', (orderBy, expected) => {
    expect(search('', orderBy)).toEqual(expected);
  });

  it('appends each tie-breaker unless a term already orders by it', () => {
    expect(orderByToSql([]).sql).toBe('r.start_time DESC, r.run_id ASC');
    expect(orderByToSql(parseOrderBy(['start_time ASC'])).sql).toBe('r.start_time ASC, r.run_id ASC');
    expect(orderByToSql(parseOrderBy(['run_id DESC'])).sql).toBe('r.run_id DESC, r.start_time DESC');
  });

  it('binds order keys after the filter params', () => {
    expect(search("status = 'FINISHED'", ['metrics.acc DESC', 'params.lr'])).toEqual(['r2', 'r1', 'r6']);
    expect(orderByToSql(parseOrderBy(['metrics.acc', 'tags.team'])).params).toEqual(['acc', 'acc', 'team']);
  });
});
