import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ChronicleClient } from '@chronicle/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

let server: ChronicleProcess;
let admin: ChronicleClient;
let auth: Record<string, string>;
let tmp: string;
let runId: string;
let manifestSha256: string;
let beforeDeploy: number;
const tokens: Record<string, string> = {};

const q = (query: string, variables: Record<string, unknown> = {}, headers = auth) => gql(server.url, query, variables, headers);
async function ok(query: string, variables: Record<string, unknown> = {}, headers = auth) {
  const r = await q(query, variables, headers);
  expect(r.body.errors).toBeUndefined();
  return r.body.data;
}
const as = (user: string) => ({ authorization: `Bearer ${tokens[user]}` });
const head = async () => ((await (await fetch(`${server.url}/healthz`)).json()) as { head: number }).head;

function cli(args: string[], token = server.adminToken) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHRONICLE_'))) as Record<string, string>;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      process.execPath,
      [cliMain, ...args],
      { env: { ...clean, CHRONICLE_URL: server.url, CHRONICLE_TOKEN: token, CHRONICLE_CACHE_DIR: join(tmp, 'cache') }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

const REPORT = `query($m: String!, $v: Int!, $f: AuditReportFormat, $a: AsOf, $verify: Boolean) {
  auditReport(model: $m, version: $v, format: $f, asOf: $a, verify: $verify) { model version format contentType content integrityOk report }
}`;

beforeAll(async () => {
  server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none' } });
  auth = { authorization: `Bearer ${server.adminToken}` };
  admin = createClient({ url: server.url, token: server.adminToken });
  tmp = mkdtempSync(join(tmpdir(), 'chronicle-audit-report-'));
  for (const [user, role] of [['mia', 'MAINTAINER'], ['vic', 'VIEWER']] as const) {
    await ok(`mutation { createUser(username: "${user}", role: ${role}) { username } }`);
    tokens[user] = (await ok(`mutation { createToken(name: "t", username: "${user}") { secret } }`)).createToken.secret as string;
  }
  // The data, the training run that read it, and the model version it produced.
  mkdirSync(join(tmp, 'customers'));
  writeFileSync(join(tmp, 'customers/train.csv'), 'tenure,churned\n1,1\n30,0\n');
  const committed = JSON.parse((await cli(['--json', 'data', 'commit', 'customers', join(tmp, 'customers'), '-m', 'March export'])).stdout);
  manifestSha256 = (await admin.datasets.version('customers', committed.version)).manifestSha256;
  const run = await admin.runs.start({
    experimentId: '0',
    name: 'churn-gbm',
    source: { gitRepo: 'https://example.com/churn.git', gitCommit: 'c0ffee', gitDirty: false, command: ['python', 'train.py'], entryPoint: 'train.py' },
    environment: { runtime: { python: '3.11.4' } },
  });
  runId = run.id;
  await admin.runs.logParams(runId, { lr: '0.05', seed: '7' });
  await admin.runs.logMetrics(runId, [{ key: 'auc', value: 0.91, step: 1 }, { key: 'auc', value: 0.93, step: 2 }]);
  await admin.declareRunInputs(runId, [{ dataset: 'customers', version: 1, role: 'train' }]);
  await admin.artifacts.upload(runId, 'model.bin', 'gbm weights');
  await admin.runs.finish(runId);
  await admin.models.register({ name: 'churn', description: 'who will leave next month' });
  await ok('mutation($r: ID!) { createModelVersion(input: { model: "churn", runId: $r, artifactPath: "model.bin", description: "first gbm" }) { version } }', { r: runId });
  // Gates, a refused promotion, an approval, the promotion, a stage move, a deployment.
  await ok('mutation { setPromotionGates(model: "churn", target: "champion", metricRules: ["metrics.auc >= 0.9"], approvals: 1) { version } }');
  const refused = await q('mutation { setModelAlias(model: "churn", alias: "champion", version: 1) { version } }');
  expect(refused.body.errors?.[0]?.extensions?.code).toBe('FAILED_PRECONDITION');
  await ok('mutation { approveModelVersion(model: "churn", version: 1, target: "champion", comment: "AUC holds on the holdout") { version } }', {}, as('mia'));
  await ok('mutation { setModelAlias(model: "churn", alias: "champion", version: 1) { version } }');
  await ok('mutation { transitionStage(model: "churn", version: 1, stage: PRODUCTION) { version } }');
  beforeDeploy = await head();
  await admin.deployments.createEnvironment('prod', { command: [process.execPath, '-e', 'console.log("deployed " + process.env.CHRONICLE_MODEL_VERSION)'] }, { timeoutMs: 20_000 });
  const done = await admin.deployments.waitFor((await admin.deployments.deploy('prod', 'churn', 1, 'first release')).id);
  expect(done.status).toBe('SUCCEEDED');
}, 90_000);

afterAll(async () => {
  await server?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the audit report of a model version', () => {
  it('as JSON: what trained it, on which data, who approved, promoted and deployed it, with integrity', async () => {
    const data = await ok(REPORT, { m: 'churn', v: 1, f: 'JSON' });
    const { report, ...doc } = data.auditReport;
    expect(doc).toMatchObject({ model: 'churn', version: 1, format: 'JSON', contentType: 'application/json', integrityOk: true });
    expect(JSON.parse(doc.content)).toEqual(report);
    expect(report.schema).toBe('chronicle.audit-report/v1');
    expect(report.model).toMatchObject({ name: 'churn', description: 'who will leave next month', registered: { actor: 'user:admin' } });
    expect(report.version).toMatchObject({ version: 1, runId, artifactPath: 'model.bin', stage: 'Production', aliases: ['champion'], created: { actor: 'user:admin' } });
    expect(report.training).toMatchObject({
      runId,
      name: 'churn-gbm',
      status: 'FINISHED',
      source: { gitCommit: 'c0ffee', gitRepo: 'https://example.com/churn.git', command: ['python', 'train.py'] },
      params: [{ key: 'lr', value: '0.05' }, { key: 'seed', value: '7' }],
      metrics: [{ key: 'auc', value: 0.93, step: 2 }],
    });
    expect(report.data).toMatchObject([{ versionId: 'customers@1', role: 'train', manifestSha256, message: 'March export', committed: { actor: 'user:admin' }, deprecated: false }]);
    expect(report.approvals).toMatchObject([{ username: 'mia', role: 'maintainer', target: 'champion', comment: 'AUC holds on the holdout', actor: 'user:mia' }]);
    expect(report.refusals).toMatchObject([{ target: 'champion', actor: 'user:admin', gatesVersion: 1 }]);
    expect(report.refusals[0].failures.map((f: { kind: string }) => f.kind)).toContain('approval');
    expect(report.promotions.map((p: { direction: string; action: string; target: string; actor: string; gate: { gatesVersion: number } | null }) => [p.direction, p.action, p.target, p.actor, p.gate?.gatesVersion ?? null])).toEqual([
      ['promotion', 'alias_set', 'champion', 'user:admin', 1],
      ['promotion', 'stage_changed', 'Production', 'user:admin', null],
    ]);
    expect(report.gates).toMatchObject([{ target: 'champion', version: 1, metricRules: ['metrics.auc >= 0.9'], approval: { count: 1, minRole: 'maintainer' } }]);
    expect(report.deployments).toMatchObject([{ environment: 'prod', reason: 'first release', status: 'succeeded', requested: { actor: 'user:admin' }, liveUntil: null, rolledBackBy: null }]);
    expect(report.deployments[0].liveFrom).toEqual(expect.any(Number));
    expect(report.integrity).toMatchObject({ verified: true, ok: true, logOk: true });
    expect(report.integrity.streams.map((s: { stream: string }) => s.stream)).toEqual(['dataset-customers', 'environment-prod', 'model-churn', `run-${runId}`, `runio-${runId}`]);
    expect(report.timeline.length).toBeGreaterThan(8);
    expect(report.gaps).toEqual([]);
  });

  it('as Markdown an auditor can read, from GraphQL, REST and the CLI alike', async () => {
    const md = (await ok(REPORT, { m: 'churn', v: 1 })).auditReport.content as string;
    for (const line of [
      '# Audit report: model `churn` version 1',
      '**Integrity: verified.**',
      '## What trained it',
      '| lr | 0.05 |',
      '| auc | 0.93 | 2 |',
      `| customers@1 | train | 1 |`,
      '| champion | mia | maintainer | AUC holds on the holdout |',
      '## Refused promotions',
      '## Where it was deployed',
      '| prod |',
    ])
      expect(md).toContain(line);
    const rest = await fetch(`${server.url}/api/v1/models/churn/versions/1/audit-report`, { headers: auth });
    expect(rest.status).toBe(200);
    expect(rest.headers.get('content-type')).toContain('text/markdown');
    const restMd = await rest.text();
    // Same report but for the generation time.
    expect(restMd.replace(/Generated \S+/, '')).toBe(md.replace(/Generated \S+/, ''));
    const json = await fetch(`${server.url}/api/v1/models/churn/versions/1/audit-report?format=json`, { headers: auth });
    expect(json.headers.get('content-type')).toContain('application/json');
    expect(((await json.json()) as { schema: string }).schema).toBe('chronicle.audit-report/v1');

    const out = join(tmp, 'churn-v1.md');
    const viaCli = await cli(['audit', 'report', 'churn', '1', '--out', out]);
    expect(viaCli.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('# Audit report: model `churn` version 1');
    const cliJson = await cli(['audit', 'report', 'churn', '1', '--format', 'json']);
    expect(cliJson.code).toBe(0);
    expect(JSON.parse(cliJson.stdout).version.runId).toBe(runId);
  });

  it('answers as of a past position: before the deployment it was deployed nowhere', async () => {
    const past = (await ok(REPORT, { m: 'churn', v: 1, f: 'JSON', a: String(beforeDeploy), verify: false })).auditReport;
    expect(past.integrityOk).toBeNull();
    expect(past.report.asOf).toMatchObject({ position: beforeDeploy, latest: false });
    expect(past.report.deployments).toEqual([]);
    expect(past.report.version.aliases).toEqual(['champion']);
    const cliPast = await cli(['audit', 'report', 'churn', '1', '--as-of', String(beforeDeploy), '--no-verify']);
    expect(cliPast.stdout).toContain('Never deployed.');
  });

  it('answers unknown models and versions with NOT_FOUND everywhere, and bad input with BAD_USER_INPUT', async () => {
    const noModel = await q(REPORT, { m: 'nope', v: 1 });
    expect(noModel.body.errors?.[0]).toMatchObject({ message: 'model nope does not exist', extensions: { code: 'NOT_FOUND' } });
    const noVersion = await q(REPORT, { m: 'churn', v: 9 });
    expect(noVersion.body.errors?.[0]).toMatchObject({ message: 'model churn has no version 9', extensions: { code: 'NOT_FOUND' } });
    const rest = await fetch(`${server.url}/api/v1/models/churn/versions/9/audit-report`, { headers: auth });
    expect(rest.status).toBe(404);
    expect(await rest.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'model churn has no version 9', model: 'churn', version: 9 } });
    for (const bad of ['versions/0/audit-report', 'versions/x/audit-report', 'versions/1/audit-report?format=pdf', 'versions/1/audit-report?verify=maybe', 'versions/1/audit-report?asOf=someday']) {
      const r = await fetch(`${server.url}/api/v1/models/churn/${bad}`, { headers: auth });
      expect(r.status, bad).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('BAD_USER_INPUT');
    }
    const viaCli = await cli(['audit', 'report', 'nope', '1']);
    expect(viaCli.code).toBe(1);
    expect(viaCli.stderr).toContain('error: model nope does not exist (NOT_FOUND)');
    expect((await cli(['audit', 'report', 'churn', 'one'])).code).toBe(2);
  });

  it('lets any reader have the report, and only maintainers the integrity check that reads the whole log', async () => {
    const denied = await q(REPORT, { m: 'churn', v: 1 }, as('vic'));
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const plain = await ok(REPORT, { m: 'churn', v: 1, verify: false }, as('vic'));
    expect(plain.auditReport.content).toContain('**Integrity: not verified.**');
    expect((await fetch(`${server.url}/api/v1/models/churn/versions/1/audit-report`, { headers: as('vic') })).status).toBe(403);
    expect((await fetch(`${server.url}/api/v1/models/churn/versions/1/audit-report?verify=false`, { headers: as('vic') })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/models/churn/versions/1/audit-report`)).status).toBe(401);
    expect((await ok(REPORT, { m: 'churn', v: 1 }, as('mia'))).auditReport.integrityOk).toBe(true);
  });
});
