import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

let server: ChronicleProcess;
let admin: Record<string, string>;
const tokens: Record<string, string> = {};
const q = (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = admin) => gql(server.url, query, variables, headers);
const as = (user: string) => ({ authorization: `Bearer ${tokens[user]}` });
const code = (r: Awaited<ReturnType<typeof gql>>) => r.body.errors?.[0]?.extensions?.code;

function cli(args: string[], token: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHRONICLE_'))) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliMain, ...args],
      { env: { ...clean, CHRONICLE_URL: server.url, CHRONICLE_TOKEN: token }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(query: string, variables: Record<string, unknown> = {}, headers = admin) {
  const r = await q(query, variables, headers);
  expect(r.body.errors).toBeUndefined();
  return r.body.data;
}

/** A run with the metrics given, an artifact, and a new version of `model` made from it. */
async function versionWith(model: string, metrics: Record<string, number>): Promise<number> {
  const runId = (await ok('mutation { startRun(input: { experimentId: "0", name: "trainer" }) { id } }')).startRun.id as string;
  await ok('mutation($r: ID!, $m: [MetricInput!]!) { logMetrics(runId: $r, metrics: $m) { accepted } }', {
    r: runId,
    m: Object.entries(metrics).map(([key, value]) => ({ key, value, step: 1 })),
  });
  const put = await fetch(`${server.url}/api/v1/runs/${runId}/artifacts/model.bin`, {
    method: 'PUT',
    headers: { ...admin, 'content-type': 'application/octet-stream' },
    body: `weights of ${runId}`,
  });
  expect(put.status).toBeLessThan(300);
  const v = await ok('mutation($m: String!, $r: ID!) { createModelVersion(input: { model: $m, runId: $r, artifactPath: "model.bin" }) { version } }', {
    m: model,
    r: runId,
  });
  return v.createModelVersion.version as number;
}

const setGates = (model: string, target: string, rules: string[], extra = '', headers = admin) =>
  q(
    `mutation($m: String!, $t: String!, $r: [String!]) { setPromotionGates(model: $m, target: $t, metricRules: $r ${extra}) { version metricRules approval { count minRole } setBy } }`,
    { m: model, t: target, r: rules },
    headers,
  );
const setAlias = (model: string, alias: string, version: number, headers = admin) =>
  q('mutation($m: String!, $a: String!, $v: Int!) { setModelAlias(model: $m, alias: $a, version: $v) { version aliases } }', { m: model, a: alias, v: version }, headers);
const holder = async (model: string, alias: string) =>
  ((await ok('query($m: String!) { model(name: $m) { aliases { alias version } } }', { m: model })).model.aliases as { alias: string; version: number }[]).find(
    (a) => a.alias === alias,
  )?.version ?? null;

beforeAll(async () => {
  server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none' } });
  admin = { authorization: `Bearer ${server.adminToken}` };
  for (const [user, role] of [['vic', 'VIEWER'], ['mel', 'MEMBER'], ['max', 'MAINTAINER'], ['mia', 'MAINTAINER']] as const) {
    await ok(`mutation { createUser(username: "${user}", role: ${role}) { username } }`);
    tokens[user] = (await ok(`mutation { createToken(name: "t", username: "${user}") { secret } }`)).createToken.secret as string;
  }
  for (const name of ['churn', 'fraud', 'ranker', 'cli-model', 'lineage-model']) await ok(`mutation { registerModel(input: { name: "${name}" }) { name } }`);
}, 60_000);
afterAll(() => server?.dispose());

describe('promotion gates against a real server', () => {
  it('refuses a failing promotion, changes nothing, and records the refusal with actor and failures', async () => {
    const v1 = await versionWith('churn', { auc: 0.95, loss: 0.2 });
    const v2 = await versionWith('churn', { auc: 0.85 });
    expect((await setAlias('churn', 'champion', v1)).body.errors).toBeUndefined();
    const gates = await setGates('churn', 'champion', ['metrics.auc >= 0.9', 'metrics.loss <= 0.3']);
    expect(gates.body.data.setPromotionGates).toEqual({ version: 1, metricRules: ['metrics.auc >= 0.9', 'metrics.loss <= 0.3'], approval: null, setBy: 'user:admin' });

    const refused = await setAlias('churn', 'champion', v2, as('max'));
    expect(code(refused)).toBe('FAILED_PRECONDITION');
    const failures = refused.body.errors![0]!.extensions!['failures'] as { rule: string; passed: boolean; left: number | null; right: number | null; message: string }[];
    expect(failures).toEqual([
      { kind: 'metric', rule: 'metrics.auc >= 0.9', passed: false, left: 0.85, right: 0.9, message: '0.85 >= 0.9 is false' },
      { kind: 'metric', rule: 'metrics.loss <= 0.3', passed: false, left: null, right: null, message: `version ${v2}'s run has no metric "loss"` },
    ]);
    expect(await holder('churn', 'champion')).toBe(v1);

    const log = await ok('query { promotionRefusals(model: "churn") { version target actor gatesVersion holderVersion passed checks { rule passed } } }');
    expect(log.promotionRefusals).toEqual([
      {
        version: v2,
        target: 'champion',
        actor: 'user:max',
        gatesVersion: 1,
        holderVersion: v1,
        passed: false,
        checks: [
          { rule: 'metrics.auc >= 0.9', passed: false },
          { rule: 'metrics.loss <= 0.3', passed: false },
        ],
      },
    ]);
    const history = await ok('query { history(entity: "model-churn", first: 100) { nodes { type actor } } }');
    expect(history.history.nodes).toContainEqual({ type: 'ModelPromotionRefused', actor: 'user:max' });
  });

  it('answers a retried refused promotion (same idempotency key) with the refusal, recording it once', async () => {
    await ok('mutation { registerModel(input: { name: "retry-model" }) { name } }');
    const v1 = await versionWith('retry-model', { auc: 0.95 });
    const v2 = await versionWith('retry-model', { auc: 0.5 });
    expect((await setAlias('retry-model', 'champion', v1)).body.errors).toBeUndefined();
    await setGates('retry-model', 'champion', ['metrics.auc >= 0.9']);
    const retry = { ...as('max'), 'idempotency-key': 'promote-v2-once' };
    const first = await setAlias('retry-model', 'champion', v2, retry);
    const again = await setAlias('retry-model', 'champion', v2, retry);
    expect(code(first)).toBe('FAILED_PRECONDITION');
    expect(code(again)).toBe('FAILED_PRECONDITION');
    expect(await holder('retry-model', 'champion')).toBe(v1);
    const log = await ok('query { promotionRefusals(model: "retry-model") { version actor } }');
    expect(log.promotionRefusals).toEqual([{ version: v2, actor: 'user:max' }]);
  });

  it('compares with the current champion, records the gate version passed, and keeps every gate version', async () => {
    const v1 = await versionWith('fraud', { auc: 0.9 });
    expect((await setGates('fraud', 'champion', ['metrics.auc >= champion.metrics.auc - 0.005'])).body.errors).toBeUndefined();
    const first = await ok('query($v: Int!) { promotionChecks(model: "fraud", version: $v, target: "champion") { passed holderVersion checks { passed message } } }', { v: v1 });
    expect(first.promotionChecks).toEqual({ passed: true, holderVersion: null, checks: [{ passed: true, message: 'no version holds the target yet, so there is no champion to compare with' }] });
    expect((await setAlias('fraud', 'champion', v1)).body.errors).toBeUndefined();

    const slightlyWorse = await versionWith('fraud', { auc: 0.897 });
    const muchWorse = await versionWith('fraud', { auc: 0.88 });
    expect(code(await setAlias('fraud', 'champion', muchWorse))).toBe('FAILED_PRECONDITION');
    expect(await holder('fraud', 'champion')).toBe(v1);
    const check = await ok('query($v: Int!) { promotionChecks(model: "fraud", version: $v, target: "champion") { passed gatesVersion holderVersion checks { left right } } }', {
      v: slightlyWorse,
    });
    expect(check.promotionChecks.passed).toBe(true);
    expect(check.promotionChecks.holderVersion).toBe(v1);
    expect(check.promotionChecks.checks[0].left).toBeCloseTo(0.897);
    expect(check.promotionChecks.checks[0].right).toBeCloseTo(0.895);
    expect((await setAlias('fraud', 'champion', slightlyWorse)).body.errors).toBeUndefined();
    expect(await holder('fraud', 'champion')).toBe(slightlyWorse);

    expect((await setGates('fraud', 'champion', ['metrics.auc >= 0.99'])).body.data.setPromotionGates.version).toBe(2);
    const versions = await ok('query { promotionGateHistory(model: "fraud", target: "champion") { version metricRules } promotionGates(model: "fraud", target: "champion") { version } }');
    expect(versions.promotionGateHistory).toEqual([
      { version: 2, metricRules: ['metrics.auc >= 0.99'] },
      { version: 1, metricRules: ['metrics.auc >= champion.metrics.auc - 0.005'] },
    ]);
    expect(versions.promotionGates).toEqual({ version: 2 });
    const refusal = await setAlias('fraud', 'champion', v1);
    expect(refusal.body.errors![0]!.extensions!['gatesVersion']).toBe(2);
  });

  it('counts approvals by role and target; viewers cannot approve; bad rules get a position', async () => {
    const v1 = await versionWith('ranker', { ndcg: 0.7 });
    expect((await setGates('ranker', 'Production', [], 'approvals: 2, approverRole: MAINTAINER')).body.data.setPromotionGates.approval).toEqual({
      count: 2,
      minRole: 'MAINTAINER',
    });
    const bad = await setGates('ranker', 'Production', ['metrics.ndcg >= >']);
    expect(code(bad)).toBe('BAD_USER_INPUT');
    expect(bad.body.errors![0]!.extensions!['position']).toBe(16);
    expect(code(await setGates('ranker', 'Production', [], '', as('mel')))).toBe('FORBIDDEN');

    const approve = (user: string, target = 'Production') =>
      q('mutation($v: Int!, $t: String!) { approveModelVersion(model: "ranker", version: $v, target: $t, comment: "ok") { version } }', { v: v1, t: target }, as(user));
    const transition = () => q('mutation($v: Int!) { transitionStage(model: "ranker", version: $v, stage: PRODUCTION) { stage } }', { v: v1 }, as('max'));
    expect(code(await approve('vic'))).toBe('FORBIDDEN');
    expect((await approve('mel')).body.errors).toBeUndefined();
    expect((await approve('max')).body.errors).toBeUndefined();
    expect((await approve('max')).body.errors).toBeUndefined();
    expect((await approve('mia', 'Staging')).body.errors).toBeUndefined();
    const refused = await transition();
    expect(code(refused)).toBe('FAILED_PRECONDITION');
    expect((refused.body.errors![0]!.extensions!['failures'] as { message: string }[])[0]!.message).toBe('1 of 2 approvals (max); 1 by a lower role not counted');

    expect((await approve('mia')).body.errors).toBeUndefined();
    const passed = await transition();
    expect(passed.body.errors).toBeUndefined();
    expect(passed.body.data.transitionStage.stage).toBe('PRODUCTION');
    const approvals = await ok('query($v: Int!) { modelVersion(model: "ranker", version: $v) { approvals(target: "Production") { username role } } }', { v: v1 });
    expect(approvals.modelVersion.approvals).toEqual([
      { username: 'mel', role: 'MEMBER' },
      { username: 'max', role: 'MAINTAINER' },
      { username: 'mia', role: 'MAINTAINER' },
    ]);
  });

  it('chronicle gate exits 0 or 1 with a readable report; chronicle promote moves or refuses', async () => {
    const good = await versionWith('cli-model', { auc: 0.93 });
    const weak = await versionWith('cli-model', { auc: 0.8 });
    const set = await cli(['gates', 'set', 'cli-model', '--to', 'champion', '--rule', 'metrics.auc >= 0.9'], tokens['max']!);
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain('gates v1');

    const pass = await cli(['gate', 'cli-model', String(good), '--to', 'champion'], tokens['vic']!);
    expect(pass.code).toBe(0);
    expect(pass.stdout).toContain('✓ metrics.auc >= 0.9  (0.93 >= 0.9)');
    const fail = await cli(['gate', 'cli-model', String(weak), '--to', 'champion'], tokens['vic']!);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toContain('✗ metrics.auc >= 0.9  (0.8 >= 0.9 is false)');
    const json = await cli(['--json', 'gate', 'cli-model', String(weak), '--to', 'champion'], tokens['vic']!);
    expect(JSON.parse(json.stdout)).toMatchObject({ passed: false, gatesVersion: 1 });
    expect((await cli(['gate', 'no-such-model', '1', '--to', 'champion'], tokens['vic']!)).code).toBe(2);
    expect((await cli(['gate', 'cli-model', '1'], tokens['vic']!)).code).toBe(2);

    const refused = await cli(['promote', 'cli-model', String(weak), '--to', 'champion'], tokens['max']!);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('✗ metrics.auc >= 0.9');
    expect(refused.stderr).toContain('FAILED_PRECONDITION');
    const promoted = await cli(['promote', 'cli-model', String(good), '--to', 'champion', '--expect', '0'], tokens['max']!);
    expect(promoted.stderr).toBe('');
    expect(promoted.code).toBe(0);
    expect(await holder('cli-model', 'champion')).toBe(good);
    const stale = await cli(['promote', 'cli-model', String(good), '--to', 'champion', '--expect', '0'], tokens['max']!);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('CONFLICT');
  });

});

describe('a lineage gate against a real server, with data committed by the CLI', () => {
  it('admits only versions whose run declared the required dataset version and role', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chronicle-lineage-gate-'));
    try {
      writeFileSync(join(dir, 'customers.csv'), 'id,churned\n1,0\n2,1\n');
      expect((await cli(['data', 'commit', 'customers', dir, '-m', 'first export'], server.adminToken)).code).toBe(0);
      writeFileSync(join(dir, 'customers.csv'), 'id,churned\n1,0\n2,1\n3,0\n');
      expect((await cli(['data', 'commit', 'customers', dir, '-m', 'second export'], server.adminToken)).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const gates = await q(
      'mutation { setPromotionGates(model: "lineage-model", target: "Production", requiredInputs: [{ dataset: "customers", version: 2, role: "train" }]) { version requiredInputs { dataset version role } } }',
    );
    expect(gates.body.data.setPromotionGates).toEqual({ version: 1, requiredInputs: [{ dataset: 'customers', version: 2, role: 'train' }] });

    /** A version of lineage-model whose run declared `inputs` (none when empty). */
    const versionTrainedOn = async (inputs: { version: string; role: string }[]) => {
      const runId = (await ok('mutation { startRun(input: { experimentId: "0", name: "trainer" }) { id } }')).startRun.id as string;
      if (inputs.length > 0)
        await ok('mutation($r: String!, $i: [RunInputDeclaration!]!) { declareRunInputs(runId: $r, inputs: $i) { versionId } }', {
          r: runId,
          i: inputs.map((i) => ({ dataset: 'customers', ...i })),
        });
      const put = await fetch(`${server.url}/api/v1/runs/${runId}/artifacts/model.bin`, { method: 'PUT', headers: admin, body: `weights of ${runId}` });
      expect(put.status).toBe(201);
      return (await ok('mutation($r: ID!) { createModelVersion(input: { model: "lineage-model", runId: $r, artifactPath: "model.bin" }) { version } }', { r: runId }))
        .createModelVersion.version as number;
    };
    const promote = (version: number) =>
      q('mutation($v: Int!) { transitionStage(model: "lineage-model", version: $v, stage: PRODUCTION) { version stage } }', { v: version });
    const failureOf = (r: Awaited<ReturnType<typeof gql>>) =>
      (r.body.errors?.[0]?.extensions?.['failures'] as { kind: string; rule: string; message: string }[] | undefined)?.map((f) => `${f.kind}: ${f.message}`);

    const untracked = await versionTrainedOn([]);
    const oldData = await versionTrainedOn([{ version: '1', role: 'train' }]);
    const wrongRole = await versionTrainedOn([{ version: '2', role: 'test' }]);
    const good = await versionTrainedOn([{ version: '1', role: 'test' }, { version: '2', role: 'train' }]);

    const refusedUntracked = await promote(untracked);
    expect(code(refusedUntracked)).toBe('FAILED_PRECONDITION');
    expect(failureOf(refusedUntracked)).toEqual(['lineage: the run declared no input of dataset customers']);
    expect(failureOf(await promote(oldData))).toEqual(['lineage: the run declared customers only as v1 as train']);
    expect(failureOf(await promote(wrongRole))).toEqual(['lineage: the run declared customers only as v2 as test']);
    const promoted = await promote(good);
    expect(promoted.body.errors).toBeUndefined();
    expect(promoted.body.data.transitionStage).toEqual({ version: good, stage: 'PRODUCTION' });

    const refusals = await ok('query { promotionRefusals(model: "lineage-model") { version target checks { rule passed } } }');
    expect(refusals.promotionRefusals.map((r: { version: number }) => r.version)).toEqual([wrongRole, oldData, untracked]); // newest first
    expect(refusals.promotionRefusals[0].checks).toEqual([{ rule: expect.stringContaining('customers'), passed: false }]);
  });
});

