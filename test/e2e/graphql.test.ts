import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

let server: ChronicleProcess;
let q: (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => ReturnType<typeof gql>;

beforeAll(async () => {
  // No loopback trust: every request must carry a token, as on a team server.
  server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none', CHRONICLE_MAX_BODY_MB: '1' } });
  q = (query, variables = {}, headers = {}) =>
    gql(server.url, query, variables, { authorization: `Bearer ${server.adminToken}`, ...headers });
});
afterAll(() => server?.dispose());

const RUN_FIELDS = `id name status lifecycle experimentId parentRunId userId startTime endTime
  source { gitCommit entryPoint } environment params { key value } tags { key value }
  metrics { key value step timestamp count }`;

async function createExperiment(name: string) {
  const r = await q('mutation($n: String!) { createExperiment(input: { name: $n, description: "d", tags: [{ key: "team", value: "ml" }] }) { id name } }', { n: name });
  expect(r.body.errors).toBeUndefined();
  return r.body.data.createExperiment.id as string;
}

async function startRun(experimentId: string, extra: Record<string, unknown> = {}) {
  const r = await q(`mutation($i: StartRunInput!) { startRun(input: $i) { ${RUN_FIELDS} } }`, {
    i: { experimentId, name: 'run', ...extra },
  });
  expect(r.body.errors).toBeUndefined();
  return r.body.data.startRun;
}

const code = (r: Awaited<ReturnType<typeof gql>>) => r.body.errors?.[0]?.extensions?.code;

describe('experiments', () => {
  it('creates, lists, finds by name, deletes and restores', async () => {
    const id = await createExperiment('exp-lifecycle');
    const byName = await q('query { experiment(name: "exp-lifecycle") { id description tags { key value } runCount createdBy } }');
    expect(byName.body.data.experiment).toEqual({
      id,
      description: 'd',
      tags: [{ key: 'team', value: 'ml' }],
      runCount: 0,
      createdBy: 'user:admin',
    });
    const del = await q('mutation($id: ID!) { deleteExperiment(id: $id) { lifecycle } }', { id });
    expect(del.body.data.deleteExperiment.lifecycle).toBe('DELETED');
    const active = await q('query { experiments { id } }');
    expect(active.body.data.experiments.map((e: { id: string }) => e.id)).not.toContain(id);
    const deleted = await q('query { experiments(lifecycle: DELETED) { id } }');
    expect(deleted.body.data.experiments.map((e: { id: string }) => e.id)).toContain(id);
    const res = await q('mutation($id: ID!) { restoreExperiment(id: $id) { lifecycle } }', { id });
    expect(res.body.data.restoreExperiment.lifecycle).toBe('ACTIVE');
  });

  it('sets experiment tags', async () => {
    const id = await createExperiment('exp-tags');
    const r = await q('mutation($id: ID!) { setExperimentTags(id: $id, tags: [{ key: "team", value: "vision" }, { key: "q", value: "4" }]) { tags { key value } } }', { id });
    expect(r.body.data.setExperimentTags.tags).toEqual([
      { key: 'q', value: '4' },
      { key: 'team', value: 'vision' },
    ]);
  });

  it('has the Default experiment with id 0', async () => {
    const r = await q('query { experiment(id: "0") { name } }');
    expect(r.body.data.experiment.name).toBe('Default');
  });

  it('refuses a duplicate name with CONFLICT and an empty one with BAD_USER_INPUT', async () => {
    await createExperiment('exp-dup');
    const dup = await q('mutation { createExperiment(input: { name: "exp-dup" }) { id } }');
    expect(code(dup)).toBe('CONFLICT');
    expect(dup.body.errors![0]!.message).toMatch(/already exists/);
    const empty = await q('mutation { createExperiment(input: { name: "  " }) { id } }');
    expect(code(empty)).toBe('BAD_USER_INPUT');
  });

  it('answers a retried create (same idempotency key) with the same experiment', async () => {
    const m = 'mutation { createExperiment(input: { name: "exp-idem" }, idempotencyKey: "create-exp-idem") { id } }';
    const a = await q(m);
    const b = await q(m);
    expect(b.body.errors).toBeUndefined();
    expect(b.body.data.createExperiment.id).toBe(a.body.data.createExperiment.id);
  });

  it('says NOT_FOUND for an unknown experiment', async () => {
    const r = await q('query { experiment(id: "nope") { id } }');
    expect(code(r)).toBe('NOT_FOUND');
  });
});

describe('runs', () => {
  let exp: string;
  beforeAll(async () => {
    exp = await createExperiment('exp-runs');
  });

  it('starts a run with source, environment and tags, and reads it back', async () => {
    const run = await startRun(exp, {
      tags: [{ key: 'stage', value: 'dev' }],
      source: { gitCommit: 'abc123', entryPoint: 'train.py' },
      environment: { python: '3.11', gpu: false },
    });
    expect(run).toMatchObject({
      status: 'RUNNING',
      lifecycle: 'ACTIVE',
      experimentId: exp,
      userId: 'admin',
      source: { gitCommit: 'abc123', entryPoint: 'train.py' },
      environment: { python: '3.11', gpu: false },
      tags: [{ key: 'stage', value: 'dev' }],
    });
  });

  it('logs params immutably: same value fine, different value BAD_USER_INPUT', async () => {
    const run = await startRun(exp);
    const m = 'mutation($r: ID!, $v: String!) { logParams(runId: $r, params: [{ key: "lr", value: $v }]) { params { key value } } }';
    expect((await q(m, { r: run.id, v: '0.1' })).body.data.logParams.params).toEqual([{ key: 'lr', value: '0.1' }]);
    expect((await q(m, { r: run.id, v: '0.1' })).body.errors).toBeUndefined();
    const changed = await q(m, { r: run.id, v: '0.2' });
    expect(code(changed)).toBe('BAD_USER_INPUT');
    expect(changed.body.errors![0]!.message).toContain('immutable');
  });

  it('logs metrics with NaN and infinities and shows the latest per key', async () => {
    const run = await startRun(exp);
    const r = await q(
      `mutation($r: ID!, $m: [MetricInput!]!) { logMetrics(runId: $r, metrics: $m) { accepted run { metrics { key value step count } } } }`,
      {
        r: run.id,
        m: [
          { key: 'loss', value: 1.5, step: 0 },
          { key: 'loss', value: 'NaN', step: 1 },
          { key: 'loss', value: 0.5, step: 2 },
          { key: 'acc', value: 'Infinity', step: 0 },
          { key: 'acc', value: '-Infinity', step: 1 },
        ],
      },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.logMetrics.accepted).toBe(5);
    expect(r.body.data.logMetrics.run.metrics).toEqual([
      { key: 'acc', value: '-Infinity', step: 1, count: 2 },
      { key: 'loss', value: 0.5, step: 2, count: 3 },
    ]);
    const h = await q('query($r: ID!) { metricHistory(runId: $r, key: "loss") { totalCount points { step value } } }', { r: run.id });
    expect(h.body.data.metricHistory).toEqual({
      totalCount: 3,
      points: [
        { step: 0, value: 1.5 },
        { step: 1, value: 'NaN' },
        { step: 2, value: 0.5 },
      ],
    });
    const bad = await q('mutation($r: ID!, $m: [MetricInput!]!) { logMetrics(runId: $r, metrics: $m) { accepted } }', {
      r: run.id,
      m: [{ key: 'x', value: 'lots' }],
    });
    expect(code(bad)).toBe('BAD_USER_INPUT');
  });

  it('pages metric history and downsamples a series', async () => {
    const run = await startRun(exp);
    const points = Array.from({ length: 5000 }, (_, i) => ({ key: 'wave', value: Math.sin(i / 100), step: i }));
    await q('mutation($r: ID!, $m: [MetricInput!]!) { logMetrics(runId: $r, metrics: $m) { accepted } }', { r: run.id, m: points });
    const page1 = await q('query($r: ID!) { metricHistory(runId: $r, key: "wave", first: 2000) { points { step } pageInfo { endCursor hasNextPage } } }', { r: run.id });
    expect(page1.body.data.metricHistory.points).toHaveLength(2000);
    expect(page1.body.data.metricHistory.pageInfo.hasNextPage).toBe(true);
    const page2 = await q('query($r: ID!, $a: String) { metricHistory(runId: $r, key: "wave", first: 2000, after: $a) { points { step } } }', {
      r: run.id,
      a: page1.body.data.metricHistory.pageInfo.endCursor,
    });
    expect(page2.body.data.metricHistory.points[0].step).toBe(2000);
    const s = await q('query($r: ID!) { metricSeries(runId: $r, key: "wave", maxPoints: 300) { totalPoints points { step value } } }', { r: run.id });
    const series = s.body.data.metricSeries;
    expect(series.totalPoints).toBe(5000);
    expect(series.points.length).toBeLessThanOrEqual(300);
    expect(series.points[0].step).toBe(0);
    expect(series.points[series.points.length - 1].step).toBe(4999);
    const tooMany = await q('query($r: ID!) { metricSeries(runId: $r, key: "wave", maxPoints: 1) { totalPoints } }', { r: run.id });
    expect(code(tooMany)).toBe('BAD_USER_INPUT');
  });

  it('sets and deletes tags; deleting a missing tag is NOT_FOUND', async () => {
    const run = await startRun(exp);
    const set = await q('mutation($r: ID!) { setTags(runId: $r, tags: [{ key: "a", value: "1" }, { key: "b", value: "2" }]) { tags { key value } } }', { r: run.id });
    expect(set.body.data.setTags.tags).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    const del = await q('mutation($r: ID!) { deleteTag(runId: $r, key: "a") { tags { key } } }', { r: run.id });
    expect(del.body.data.deleteTag.tags).toEqual([{ key: 'b' }]);
    const again = await q('mutation($r: ID!) { deleteTag(runId: $r, key: "a") { id } }', { r: run.id });
    expect(code(again)).toBe('NOT_FOUND');
  });

  it('finishes a run once; ending it differently is FAILED_PRECONDITION', async () => {
    const run = await startRun(exp);
    const fin = await q('mutation($r: ID!) { finishRun(runId: $r, status: FAILED) { status endTime } }', { r: run.id });
    expect(fin.body.data.finishRun.status).toBe('FAILED');
    expect(fin.body.data.finishRun.endTime).toBeGreaterThan(0);
    const again = await q('mutation($r: ID!) { finishRun(runId: $r, status: KILLED) { status } }', { r: run.id });
    expect(code(again)).toBe('FAILED_PRECONDITION');
  });

  it('soft-deletes, restores and moves runs; nests child runs', async () => {
    const parent = await startRun(exp);
    const child = await startRun(exp, { parentRunId: parent.id });
    expect(child.parentRunId).toBe(parent.id);
    const kids = await q('query($r: ID!) { run(id: $r) { children { id } } }', { r: parent.id });
    expect(kids.body.data.run.children).toEqual([{ id: child.id }]);

    const del = await q('mutation($r: ID!) { deleteRun(runId: $r) { lifecycle } }', { r: child.id });
    expect(del.body.data.deleteRun.lifecycle).toBe('DELETED');
    const hidden = await q('query($e: [ID!]) { runs(experimentIds: $e) { nodes { id } } }', { e: [exp] });
    expect(hidden.body.data.runs.nodes.map((n: { id: string }) => n.id)).not.toContain(child.id);
    const logDeleted = await q('mutation($r: ID!) { logParams(runId: $r, params: [{ key: "k", value: "v" }]) { id } }', { r: child.id });
    expect(code(logDeleted)).toBe('FAILED_PRECONDITION');
    const res = await q('mutation($r: ID!) { restoreRun(runId: $r) { lifecycle } }', { r: child.id });
    expect(res.body.data.restoreRun.lifecycle).toBe('ACTIVE');

    const other = await createExperiment('exp-move-target');
    const moved = await q('mutation($r: ID!, $e: ID!) { moveRun(runId: $r, experimentId: $e) { experimentId experiment { name } } }', { r: parent.id, e: other });
    expect(moved.body.data.moveRun).toEqual({ experimentId: other, experiment: { name: 'exp-move-target' } });
    const missing = await q('mutation($r: ID!) { moveRun(runId: $r, experimentId: "nowhere") { id } }', { r: parent.id });
    expect(code(missing)).toBe('NOT_FOUND');
  });

  it('refuses a run in a missing experiment (NOT_FOUND) and a retried start makes one run', async () => {
    const r = await q('mutation { startRun(input: { experimentId: "missing" }) { id } }');
    expect(code(r)).toBe('NOT_FOUND');
    const m = `mutation($e: ID!) { startRun(input: { experimentId: $e, name: "once" }, idempotencyKey: "start-once") { id } }`;
    const a = await q(m, { e: exp });
    const b = await q(m, { e: exp });
    expect(b.body.data.startRun.id).toBe(a.body.data.startRun.id);
    const reused = await q(`mutation($e: ID!) { startRun(input: { experimentId: $e, name: "other" }, idempotencyKey: "start-once") { id } }`, { e: exp });
    expect(code(reused)).toBe('CONFLICT');
  });
});

describe('concurrent writers', () => {
  it('applies twenty concurrent writes to one run without losing any', async () => {
    const exp = await createExperiment('exp-concurrent');
    const run = await startRun(exp);
    const writes = Array.from({ length: 20 }, (_, i) =>
      q('mutation($r: ID!, $k: String!) { logParams(runId: $r, params: [{ key: $k, value: "v" }]) { id } }', { r: run.id, k: `p${i}` }),
    );
    const results = await Promise.all(writes);
    expect(results.every((r) => r.body.errors === undefined)).toBe(true);
    const after = await q('query($r: ID!) { run(id: $r) { params { key } } }', { r: run.id });
    expect(after.body.data.run.params).toHaveLength(20);
  });

  it('lets one of two conflicting param values win; the other is refused, not lost silently', async () => {
    const exp = await createExperiment('exp-race');
    const run = await startRun(exp);
    const m = 'mutation($r: ID!, $v: String!) { logParams(runId: $r, params: [{ key: "seed", value: $v }]) { id } }';
    const [a, b] = await Promise.all([q(m, { r: run.id, v: '1' }), q(m, { r: run.id, v: '2' })]);
    const codes = [a, b].map((r) => r.body.errors?.[0]?.extensions?.code ?? 'OK').sort();
    expect(codes).toEqual(['BAD_USER_INPUT', 'OK']);
  });

  it('creates one experiment when two requests race for the same name', async () => {
    const m = 'mutation { createExperiment(input: { name: "exp-name-race" }) { id } }';
    const results = await Promise.all([q(m), q(m), q(m)]);
    expect(results.filter((r) => r.body.errors === undefined)).toHaveLength(1);
    expect(results.filter((r) => code(r) === 'CONFLICT')).toHaveLength(2);
  });
});

describe('search', () => {
  let exp: string;
  beforeAll(async () => {
    exp = await createExperiment('exp-search');
    for (const [i, model] of ['xgb', 'xgb', 'lr', 'rf'].entries()) {
      const run = await startRun(exp, { name: `r${i}`, tags: [{ key: 'team', value: i % 2 ? 'vision' : 'nlp' }] });
      await q('mutation($r: ID!, $p: [KeyValueInput!]!, $m: [MetricInput!]!) { logParams(runId: $r, params: $p) { id } logMetrics(runId: $r, metrics: $m) { accepted } }', {
        r: run.id,
        p: [{ key: 'model', value: model }],
        m: [{ key: 'acc', value: [0.7, 0.8, 0.9, 1.0][i] }],
      });
    }
  });

  const names = async (filter: string, orderBy: string[] = ['attributes.run_name ASC'], first = 50) => {
    const r = await q('query($e: [ID!], $f: String, $o: [String!], $n: Int) { runs(experimentIds: $e, filter: $f, orderBy: $o, first: $n) { nodes { name } totalCount pageInfo { hasNextPage endCursor } } }', {
      e: [exp],
      f: filter,
      o: orderBy,
      n: first,
    });
    if (r.body.errors) return r;
    return r.body.data.runs;
  };

  it('filters with MLflow syntax and with OR and parentheses', async () => {
    expect((await names("metrics.acc > 0.85 and params.model = 'xgb'")).nodes).toEqual([]);
    expect((await names("metrics.acc >= 0.8 and params.model = 'xgb'")).nodes).toEqual([{ name: 'r1' }]);
    expect((await names("params.model = 'lr' or (tags.team LIKE 'vis%' and metrics.acc < 0.9)")).nodes).toEqual([
      { name: 'r1' },
      { name: 'r2' },
    ]);
  });

  it('orders by a metric and pages with a cursor', async () => {
    const first = await names('', ['metrics.acc DESC'], 2);
    expect(first.nodes).toEqual([{ name: 'r3' }, { name: 'r2' }]);
    expect(first.totalCount).toBe(4);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const r = await q('query($e: [ID!], $a: String) { runs(experimentIds: $e, orderBy: ["metrics.acc DESC"], first: 2, after: $a) { nodes { name } pageInfo { hasNextPage } } }', {
      e: [exp],
      a: first.pageInfo.endCursor,
    });
    expect(r.body.data.runs).toEqual({ nodes: [{ name: 'r1' }, { name: 'r0' }], pageInfo: { hasNextPage: false } });
  });

  it('points at the position of a bad filter', async () => {
    const r = await q('query { runs(filter: "metrics.acc >> 1") { totalCount } }');
    expect(code(r)).toBe('BAD_USER_INPUT');
    expect(r.body.errors![0]!.extensions!['position']).toBeTypeOf('number');
    expect(r.body.errors![0]!.message).toMatch(/position/);
  });
});

describe('auth', () => {
  it('says UNAUTHENTICATED without a token, or with a wrong one', async () => {
    const none = await gql(server.url, '{ experiments { id } }');
    expect(none.status).toBe(401);
    expect(none.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    const wrong = await gql(server.url, '{ experiments { id } }', {}, { authorization: 'Bearer chr_nope' });
    expect(wrong.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('lets a viewer read but not write (FORBIDDEN), records the actor, and refuses a revoked token', async () => {
    await q('mutation { createUser(username: "vera", role: VIEWER) { username } }');
    const t = await q('mutation { createToken(name: "vera laptop", username: "vera") { token { id username } secret } }');
    const { secret, token } = t.body.data.createToken;
    expect(token.username).toBe('vera');
    const asVera = { authorization: `Bearer ${secret}` };
    const me = await gql(server.url, '{ me { username role authenticatedBy } }', {}, asVera);
    expect(me.body.data.me).toEqual({ username: 'vera', role: 'VIEWER', authenticatedBy: `token:${token.id}` });
    const read = await gql(server.url, '{ experiments { id } }', {}, asVera);
    expect(read.body.errors).toBeUndefined();
    const write = await gql(server.url, 'mutation { createExperiment(input: { name: "by-vera" }) { id } }', {}, asVera);
    expect(write.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const users = await gql(server.url, '{ users { username } }', {}, asVera);
    expect(users.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');

    await q('mutation { changeUserRole(username: "vera", role: MEMBER) { role } }');
    const exp = await gql(server.url, 'mutation { createExperiment(input: { name: "by-vera" }) { id createdBy } }', {}, asVera);
    expect(exp.body.data.createExperiment.createdBy).toBe('user:vera');

    const revoked = await q('mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }', { id: token.id });
    expect(revoked.body.data.revokeToken.revokedAt).toBeGreaterThan(0);
    const after = await gql(server.url, '{ experiments { id } }', {}, asVera);
    expect(after.status).toBe(401);
    expect(after.body.errors![0]!.message).toMatch(/revoked/);
  });

  it('refuses an expired token', async () => {
    const t = await q('mutation($x: Float) { createToken(name: "short", expiresAt: $x) { secret } }', { x: Date.now() + 300 });
    await new Promise((r) => setTimeout(r, 400));
    const r = await gql(server.url, '{ me { username } }', {}, { authorization: `Bearer ${t.body.data.createToken.secret}` });
    expect(r.body.errors![0]!.message).toMatch(/expired/);
  });
});

describe('operations', () => {
  it('serves health and Prometheus metrics without a token', async () => {
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { status: string; head: number; projected: number };
    expect(health.status).toBe('ok');
    expect(health.projected).toBe(health.head);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/chronicle_log_head_position \d+/);
    expect(metrics).toContain('chronicle_http_request_duration_seconds_bucket');
    expect(metrics).toContain('chronicle_projection_lag_events 0');
  });
});

describe('bad requests', () => {
  it('answers a malformed query with a GraphQL error, not a 500', async () => {
    const r = await q('query { experiments { id ');
    expect(r.status).toBe(400);
    expect(code(r)).toBe('GRAPHQL_PARSE_FAILED');
    const unknown = await q('query { nope }');
    expect(code(unknown)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('limits request size', async () => {
    const res = await fetch(`${server.url}/api/v1/runs/x/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      body: `[${'{"key":"a","value":1},'.repeat(60_000)}{"key":"a","value":1}]`,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
