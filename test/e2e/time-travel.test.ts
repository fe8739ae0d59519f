import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createClient, type ChronicleClient } from '@chronicle/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

// "What did the registry look like before this incident?" against a real server process:
// a model is trained, released and deployed; then an incident (a new champion, a deploy, a
// dataset change, more metrics); then the state before it is asked for, by position and by time.

let server: ChronicleProcess;
let client: ChronicleClient;
let auth: Record<string, string>;
const q = (query: string, variables: Record<string, unknown> = {}) => gql(server.url, query, variables, auth);
const code = (r: Awaited<ReturnType<typeof gql>>) => r.body.errors?.[0]?.extensions?.code;
const ok = async (query: string, variables: Record<string, unknown> = {}) => {
  const r = await q(query, variables);
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data;
};
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let runId: string;
/** Positions and time just before the incident. */
let before: { position: number; time: string };

async function commitDataset(name: string, content: string) {
  return client.datasets.commit(name, [{ path: 'train.csv', size: Buffer.byteLength(content), sha256: sha256(content), open: () => content }]);
}

beforeAll(async () => {
  server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none' } });
  auth = { authorization: `Bearer ${server.adminToken}` };
  client = createClient({ url: server.url, token: server.adminToken });

  const run = await client.runs.start({ experimentId: '0', name: 'trainer' });
  runId = run.id;
  await client.runs.logParams(runId, { lr: '0.1' });
  await client.runs.logMetrics(runId, [
    { key: 'auc', value: 0.81, step: 1 },
    { key: 'auc', value: 0.86, step: 2 },
  ]);
  await client.models.register({ name: 'churn' });
  for (const v of ['v1', 'v2']) {
    const put = await fetch(`${server.url}/api/v1/runs/${runId}/artifacts/model-${v}.bin`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: `weights ${v}`,
    });
    expect(put.ok).toBe(true);
    await client.models.createVersion({ model: 'churn', runId, artifactPath: `model-${v}.bin` });
  }
  await client.models.setAlias('churn', 'champion', 1);
  await client.datasets.create('customers');
  await commitDataset('customers', 'id,churned\n1,0\n');
  await client.deployments.createEnvironment('production', { command: [process.execPath, '-e', 'process.exit(0)'] }, { timeoutMs: 20_000 });
  const first = await client.deployments.waitFor((await client.deployments.deploy('production', 'churn', 1, 'first release')).id);
  expect(first.status).toBe('SUCCEEDED');

  // The moment before the incident, as a position and as a time.
  const point = await ok('{ asOfPoint(at: "2999-01-01T00:00:00Z") { position head recordedAt } }');
  before = { position: point.asOfPoint.head, time: new Date(point.asOfPoint.recordedAt).toISOString() };
  await new Promise((r) => setTimeout(r, 20)); // so "before" as a time falls between the two

  // The incident: a new champion deployed, the training data changed, the run kept logging.
  await client.models.setAlias('churn', 'champion', 2);
  const second = await client.deployments.waitFor((await client.deployments.deploy('production', 'churn', 2, 'hotfix')).id);
  expect(second.status).toBe('SUCCEEDED');
  await commitDataset('customers', 'id,churned\n1,0\n2,1\n');
  await client.runs.logMetrics(runId, [{ key: 'auc', value: 0.52, step: 3 }]);
  await client.runs.setTags(runId, { incident: 'yes' });
}, 120_000);

afterAll(() => server?.dispose());

const REGISTRY = `query($asOf: AsOf) {
  model(name: "churn", asOf: $asOf) { aliases { alias version } versions { version aliases } }
  environment(name: "production", asOf: $asOf) { live { version deploymentId } }
  deployments(environment: "production", asOf: $asOf) { nodes { version status reason } }
  dataset(name: "customers", asOf: $asOf) { latestVersion }
  datasetVersion(dataset: "customers", version: "latest", asOf: $asOf) { version fileCount totalBytes }
  run(id: "RUN", asOf: $asOf) { metrics { key value step count } tags { key value } experiment { id name runCount } }
  runs(asOf: $asOf, filter: "metrics.auc > 0.8") { totalCount nodes { id metric(key: "auc") { value } } }
}`;

describe('time travel over GraphQL', () => {
  it('answers "what did the registry look like before the incident?" in one query, by position and by time', async () => {
    const query = REGISTRY.replace('RUN', runId);
    const now = await ok(query);
    expect(now.model.aliases).toEqual([{ alias: 'champion', version: 2 }]);
    expect(now.environment.live.version).toBe(2);
    expect(now.dataset.latestVersion).toBe(2);
    expect(now.runs.totalCount).toBe(0);

    for (const asOf of [before.position, String(before.position), before.time]) {
      const then = await ok(query, { asOf });
      expect(then.model.aliases).toEqual([{ alias: 'champion', version: 1 }]);
      // Nested fields answer from the same past: version 1 held the alias then.
      expect(then.model.versions).toEqual([
        { version: 2, aliases: [] },
        { version: 1, aliases: ['champion'] },
      ]);
      expect(then.environment.live.version).toBe(1);
      expect(then.deployments.nodes).toEqual([{ version: 1, status: 'SUCCEEDED', reason: 'first release' }]);
      expect(then.dataset.latestVersion).toBe(1);
      expect(then.datasetVersion).toMatchObject({ version: 1, fileCount: 1 });
      expect(then.run.metrics).toEqual([{ key: 'auc', value: 0.86, step: 2, count: 2 }]);
      expect(then.run.tags).toEqual([]);
      expect(then.run.experiment).toMatchObject({ id: '0', runCount: 1 });
      expect(then.runs).toEqual({ totalCount: 1, nodes: [{ id: runId, metric: { value: 0.86 } }] });
    }
  });

  it('answers each root field of one request from its own point in time', async () => {
    const r = await ok(`query($p: AsOf) { then: model(name: "churn", asOf: $p) { aliases { version } } now: model(name: "churn") { aliases { version } } }`, {
      p: before.position,
    });
    expect(r).toEqual({ then: { aliases: [{ version: 1 }] }, now: { aliases: [{ version: 2 }] } });
  });

  it('shows the empty state at position 0, and says which event a time resolves to', async () => {
    const empty = await ok('{ models(asOf: 0) { name } runs(asOf: 0) { totalCount } experiments(asOf: 0) { id } }');
    expect(empty).toEqual({ models: [], runs: { totalCount: 0 }, experiments: [] });
    const point = await ok('query($t: AsOf!) { asOfPoint(at: $t) { position recordedAt } }', { t: before.time });
    expect(point.asOfPoint.position).toBe(before.position);
    expect(point.asOfPoint.recordedAt).toBeLessThanOrEqual(Date.parse(before.time));
  });

  it('refuses malformed or future positions with BAD_USER_INPUT, never an internal error', async () => {
    const head = (await ok('{ asOfPoint(at: "2999-01-01") { head } }')).asOfPoint.head as number;
    const cases: [string, Record<string, unknown>][] = [
      ['query($a: AsOf) { models(asOf: $a) { name } }', { a: head + 1 }],
      ['query($a: AsOf) { models(asOf: $a) { name } }', { a: -1 }],
      ['query($a: AsOf) { models(asOf: $a) { name } }', { a: 1.5 }],
      ['query($a: AsOf) { models(asOf: $a) { name } }', { a: 'last tuesday' }],
      ['query($a: AsOf) { models(asOf: $a) { name } }', { a: true }],
      ['{ models(asOf: "not a time") { name } }', {}],
      ['{ models(asOf: 12.5) { name } }', {}],
      ['{ run(id: "nope", asOf: 1) { id } }', {}],
    ];
    for (const [query, variables] of cases) {
      const r = await q(query, variables);
      expect({ query, variables, code: code(r) }).toEqual({ query, variables, code: query.includes('nope') ? 'NOT_FOUND' : 'BAD_USER_INPUT' });
      expect(r.status).toBeLessThan(500);
    }
    const beyond = await q('query($a: AsOf) { models(asOf: $a) { name } }', { a: head + 1 });
    expect(beyond.body.errors![0]!.message).toMatch(/beyond the head of the log/);
    // Mutations take no asOf: the schema itself refuses it.
    const mutation = await q('mutation { setModelAlias(model: "churn", alias: "x", version: 1, asOf: 1) { version } }');
    expect(code(mutation)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await ok('{ model(name: "churn") { aliases { alias } } }')).model.aliases).toEqual([{ alias: 'champion' }]);
  });

  it('serves the past through the TypeScript SDK', async () => {
    const asOf = before.position;
    expect((await client.models.get('churn', { asOf })).aliases).toEqual([expect.objectContaining({ alias: 'champion', version: 1 })]);
    expect((await client.runs.get(runId, { asOf: before.time })).metrics).toEqual([expect.objectContaining({ key: 'auc', value: 0.86 })]);
    expect((await client.runs.search({ filter: 'metrics.auc > 0.8', asOf })).nodes.map((r) => r.id)).toEqual([runId]);
    expect((await client.datasets.version('customers', 'latest', { asOf: new Date(before.time) })).version).toBe(1);
    expect((await client.deployments.list('production', { asOf })).nodes.map((d) => d.version)).toEqual([1]);
  });

  it('answers the CLI\'s --as-of in its read commands, and refuses a malformed one as a usage error', async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const env = { ...process.env, CHRONICLE_URL: server.url, CHRONICLE_TOKEN: server.adminToken };
        execFile(process.execPath, [cliMain, ...args], { env, timeout: 20_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
        );
      });
    const model = await cli(['models', 'show', 'churn', '--as-of', String(before.position), '--json']);
    expect(model.code, model.stderr).toBe(0);
    expect(JSON.parse(model.stdout).aliases).toEqual([expect.objectContaining({ alias: 'champion', version: 1 })]);
    const run = await cli(['runs', 'show', runId, '--as-of', before.time, '--json']);
    expect(JSON.parse(run.stdout).metrics).toEqual([expect.objectContaining({ key: 'auc', value: 0.86 })]);
    const deployments = await cli(['deployments', '--env', 'production', '--as-of', String(before.position), '--json']);
    expect(JSON.parse(deployments.stdout).map((d: { version: number }) => d.version)).toEqual([1]);
    const log = await cli(['data', 'log', 'customers', '--as-of', String(before.position), '--json']);
    expect(JSON.parse(log.stdout).map((v: { version: number }) => v.version)).toEqual([1]);
    const bad = await cli(['runs', 'list', '--as-of', 'yesterday-ish']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/expected a log position/);
    const beyond = await cli(['models', 'list', '--as-of', '999999999']);
    expect(beyond.code).not.toBe(0);
    expect(beyond.stderr).toMatch(/beyond the head of the log/);
  });
});
