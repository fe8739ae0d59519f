import { execFile } from 'node:child_process';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type ChronicleClient, type Deployment } from '@chronicle/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

const SECRET = 'test-signing-secret-0123456789';

/** The receiver check from docs/deployments.md, written out independently of the server's code. */
function verify(secret: string, body: string, header: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = new Map(header.split(',').map((kv) => kv.split('=') as [string, string]));
  const t = Number(parts.get('t'));
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.get('v1') ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver; each path answers from its own script of status codes (the last one repeats). */
class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, number[]>();
  private server!: Server;
  url = '';
  async start() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, body });
        const script = this.scripts.get(path) ?? [200];
        const status = script.length > 1 ? script.shift()! : script[0]!;
        if (status === 0) return; // hang: never answer
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'deployed' : 'try again');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  script(path: string, statuses: number[]) {
    this.scripts.set(path, [...statuses]);
  }
  at(path: string) {
    return this.received.filter((r) => r.path === path);
  }
  stop() {
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

let server: ChronicleProcess;
let client: ChronicleClient;
const receiver = new Receiver();
const scratch = mkdtempSync(join(tmpdir(), 'chronicle-deploy-test-'));
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const contents = ['weights v1', 'weights v2', 'weights v3'];

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function seedModel(c: ChronicleClient, url: string, token: string, name: string) {
  const run = await c.runs.start({ experimentId: '0', name: 'trainer' });
  await c.models.register({ name });
  for (const content of contents) {
    const path = `model-${content.at(-1)}.bin`;
    const put = await fetch(`${url}/api/v1/runs/${run.id}/artifacts/${path}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: content,
    });
    expect(put.ok).toBe(true);
    await c.models.createVersion({ model: name, runId: run.id, artifactPath: path });
  }
}

/** The automatic rollback of a failed deployment, once it has an outcome. */
const rollbackOf = (env: string, failed: string) =>
  until(`rollback of ${failed}`, async () => {
    const d = (await client.deployments.list(env)).nodes.find((x) => x.rollbackOf === failed);
    return d && d.status === 'SUCCEEDED' ? d : null;
  });

const recordArgv = (out: string) => [
  process.execPath,
  '-e',
  `const fs = require('fs'); const e = process.env;
   fs.writeFileSync(process.argv[1], JSON.stringify({ model: e.CHRONICLE_MODEL, version: e.CHRONICLE_MODEL_VERSION, path: e.CHRONICLE_ARTIFACT_PATH,
     sha256: e.CHRONICLE_ARTIFACT_SHA256, content: fs.readFileSync(e.CHRONICLE_ARTIFACT_PATH, 'utf8') }));
   console.log('deployed ' + e.CHRONICLE_MODEL_VERSION);
   if (fs.existsSync(process.argv[1] + '.fail-' + e.CHRONICLE_MODEL_VERSION)) process.exit(3);
   if (fs.existsSync(process.argv[1] + '.hang-' + e.CHRONICLE_MODEL_VERSION)) setInterval(() => {}, 1000);`,
  out,
];

beforeAll(async () => {
  await receiver.start();
  server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none', CHRONICLE_DELIVERY_BACKOFF_MS: '100' } });
  client = createClient({ url: server.url, token: server.adminToken });
  await seedModel(client, server.url, server.adminToken, 'churn');
});
afterAll(async () => {
  await server?.dispose();
  await receiver.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('webhook target', () => {
  it('deploys through a signed POST that a receiver verifies, and a replayed request is rejected', async () => {
    await client.deployments.createEnvironment('staging', { webhook: { url: `${receiver.url}/staging`, secret: SECRET } });
    const requested = await client.deployments.deploy('staging', 'churn', 1, 'first release');
    expect(requested.status).toMatch(/REQUESTED|STARTED|SUCCEEDED/);
    const done = await client.deployments.waitFor(requested.id);
    expect(done).toMatchObject({ status: 'SUCCEEDED', model: 'churn', version: 1, sha256: sha256(contents[0]!), reason: 'first release', requestedBy: 'user:admin' });
    expect(done.attempts).toMatchObject([{ attempt: 1, statusCode: 200, output: 'deployed' }]);

    const [req] = receiver.at('/staging');
    const header = String(req!.headers['chronicle-signature']);
    const t = Number(/t=(\d+)/.exec(header)![1]);
    expect(verify(SECRET, req!.body, header, Math.floor(Date.now() / 1000))).toBe(true);
    expect(JSON.parse(req!.body)).toMatchObject({ deploymentId: done.id, model: 'churn', version: 1, environment: 'staging' });
    expect(req!.headers['chronicle-delivery']).toBe(done.id);
    // The same request replayed ten minutes later: its signed timestamp is out of tolerance.
    expect(verify(SECRET, req!.body, header, t + 600)).toBe(false);
    // A tampered body or a wrong secret never verifies.
    expect(verify(SECRET, req!.body.replace('"version":1', '"version":2'), header, t)).toBe(false);
    expect(verify('another-secret-0123456789', req!.body, header, t)).toBe(false);
  });

  it('retries a 500 with backoff and records every attempt', async () => {
    receiver.script('/flaky', [500, 500, 200]);
    await client.deployments.createEnvironment('flaky', { webhook: { url: `${receiver.url}/flaky`, secret: SECRET } });
    const done = await client.deployments.waitFor((await client.deployments.deploy('flaky', 'churn', 2)).id);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(done.attempts[0]!.error).toBe('HTTP 500');
    // Every retry is the same delivery.
    expect(new Set(receiver.at('/flaky').map((r) => r.headers['chronicle-delivery']))).toEqual(new Set([done.id]));
  });

  it('generates a secret when none is given and shows it once', async () => {
    const res = await client.deployments.createEnvironment('generated', { webhook: { url: `${receiver.url}/generated` } });
    expect(res.secret).toMatch(/^whsec_/);
    const listed = (await client.deployments.environments()).find((e) => e.name === 'generated');
    expect(listed).toMatchObject({ targetKind: 'WEBHOOK', targetUrl: `${receiver.url}/generated` });
    expect(JSON.stringify(listed)).not.toContain(res.secret!);
  });
});

describe('command target', () => {
  it('runs the command with the version and its materialised artifact', async () => {
    const out = join(scratch, 'cmd-env.json');
    await client.deployments.createEnvironment('cmd', { command: recordArgv(out) }, { timeoutMs: 20_000 });
    const done = await client.deployments.waitFor((await client.deployments.deploy('cmd', 'churn', 2)).id);
    expect(done.status).toBe('SUCCEEDED');
    const seen = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
    expect(seen).toMatchObject({ model: 'churn', version: '2', sha256: sha256(contents[1]!), content: contents[1] });
    expect(seen['path']).toMatch(/model-2\.bin$/);
    expect(done.attempts).toMatchObject([{ exitCode: 0, output: 'deployed 2\n' }]);
  });

  it('a failing deployment rolls back automatically to the previous one', async () => {
    const out = join(scratch, 'fail.json');
    await client.deployments.createEnvironment('failing', { command: recordArgv(out) }, { timeoutMs: 20_000 });
    const good = await client.deployments.waitFor((await client.deployments.deploy('failing', 'churn', 1)).id);
    expect(good.status).toBe('SUCCEEDED');
    rmSync(out);
    writeFileSync(`${out}.fail-3`, '');
    const bad = await client.deployments.waitFor((await client.deployments.deploy('failing', 'churn', 3)).id);
    expect(bad).toMatchObject({ status: 'FAILED' });
    expect(bad.error).toContain('exit code 3');
    const rollback = await rollbackOf('failing', bad.id);
    expect(rollback).toMatchObject({ version: 1, restores: good.id, reason: `automatic rollback after ${bad.id} failed`, requestedBy: 'system:deployer' });
    expect((await client.deployments.get(bad.id)).rolledBackBy).toBe(rollback.id);
  });

  it('a hanging command is killed at its timeout and rolled back', async () => {
    const out = join(scratch, 'hang.json');
    await client.deployments.createEnvironment('hanging', { command: recordArgv(out) }, { timeoutMs: 1500 });
    const good = await client.deployments.waitFor((await client.deployments.deploy('hanging', 'churn', 1)).id);
    expect(good.status).toBe('SUCCEEDED');
    writeFileSync(`${out}.hang-2`, '');
    const started = Date.now();
    const hung = await client.deployments.waitFor((await client.deployments.deploy('hanging', 'churn', 2)).id);
    expect(hung.status).toBe('TIMED_OUT');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(hung.attempts[0]!.error).toContain('timed out');
    expect(await rollbackOf('hanging', hung.id)).toMatchObject({ version: 1, restores: good.id });
  });
});


describe('rollback and history', () => {
  let first: Deployment;
  let second: Deployment;
  let third: Deployment;
  const times: number[] = [];

  it('rolls back to an earlier deployment on request', async () => {
    await client.deployments.createEnvironment('production', { webhook: { url: `${receiver.url}/production`, secret: SECRET } });
    times.push(Date.now());
    await new Promise((r) => setTimeout(r, 20));
    first = await client.deployments.waitFor((await client.deployments.deploy('production', 'churn', 1, 'v1')).id);
    times.push(Date.now());
    second = await client.deployments.waitFor((await client.deployments.deploy('production', 'churn', 2, 'v2')).id);
    times.push(Date.now());
    third = await client.deployments.waitFor((await client.deployments.deploy('production', 'churn', 3, 'v3')).id);
    times.push(Date.now());
    const back = await client.deployments.waitFor((await client.deployments.rollback('production', { toDeploymentId: first.id })).id);
    expect(back).toMatchObject({ status: 'SUCCEEDED', version: 1, restores: first.id, rollbackOf: third.id });
    expect((await client.deployments.get(third.id)).status).toBe('ROLLED_BACK');
    // Default: the successful deployment before the live one that runs another version.
    const again = await client.deployments.waitFor((await client.deployments.rollback('production')).id);
    expect(again).toMatchObject({ version: 2, restores: second.id });
    const r = await gql(server.url, 'mutation { rollbackDeployment(environment: "production", toDeploymentId: "nope") { id } }', {}, { authorization: `Bearer ${server.adminToken}` });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('answers what was deployed at any time, and who deployed it', async () => {
    expect(await client.deployments.deployedAt('production', times[0]!)).toBeNull();
    expect(await client.deployments.deployedAt('production', times[1]!)).toMatchObject({ version: 1, deploymentId: first.id, deployedBy: 'user:admin' });
    expect(await client.deployments.deployedAt('production', times[2]!)).toMatchObject({ version: 2, deploymentId: second.id });
    expect(await client.deployments.deployedAt('production', times[3]!)).toMatchObject({ version: 3, deploymentId: third.id });
    expect(await client.deployments.deployedAt('production', Date.now())).toMatchObject({ version: 2, toTime: null });
    const page = await client.deployments.list('production', { first: 2 });
    expect(page.nodes.map((d) => d.version)).toEqual([2, 1]);
    expect(page.pageInfo.hasNextPage).toBe(true);
  });

  it('refuses to delete a deployed version, and deploy/rollback need a maintainer', async () => {
    const auth = { authorization: `Bearer ${server.adminToken}` };
    const refused = await gql(server.url, 'mutation { deleteModelVersion(model: "churn", version: 2) { version } }', {}, auth);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FAILED_PRECONDITION');
    expect(refused.body.errors?.[0]?.message).toContain('production');
    await gql(server.url, 'mutation { createUser(username: "mia", role: MEMBER) { username } }', {}, auth);
    const token = await gql(server.url, 'mutation { createToken(username: "mia", name: "t") { secret } }', {}, auth);
    const secret = token.body.data?.createToken?.secret as string | undefined;
    expect(secret).toBeTruthy();
    const r = await gql(server.url, 'mutation { deployModelVersion(environment: "production", model: "churn", version: 1) { id } }', {}, { authorization: `Bearer ${secret}` });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const missing = await gql(server.url, 'mutation { deployModelVersion(environment: "nowhere", model: "churn", version: 1) { id } }', {}, auth);
    expect(missing.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('webhook subscriptions', () => {
  it('delivers MODEL_VERSION_CREATED and ALIAS_MOVED signed, with a delivery id, and logs each attempt', async () => {
    receiver.script('/events', [500, 200]);
    const { webhook, secret } = await client.webhooks.create(`${receiver.url}/events`, ['MODEL_VERSION_CREATED', 'ALIAS_MOVED']);
    expect(secret).toMatch(/^whsec_/);
    await seedModel(client, server.url, server.adminToken, 'fraud');
    await client.models.setAlias('fraud', 'champion', 2);
    const got = await until('four deliveries', async () => {
      const ok = receiver.at('/events').filter((r, i, all) => all.findIndex((x) => x.headers['chronicle-delivery'] === r.headers['chronicle-delivery']) === i);
      return ok.length >= 4 ? ok : null;
    });
    const bodies = got.map((r) => JSON.parse(r.body) as { id: string; type: string; data: { name: string; version: number } });
    expect(bodies.map((b) => b.type)).toEqual(['MODEL_VERSION_CREATED', 'MODEL_VERSION_CREATED', 'MODEL_VERSION_CREATED', 'ALIAS_MOVED']);
    expect(bodies[3]!.data).toMatchObject({ name: 'fraud', alias: 'champion', version: 2 });
    for (const r of got) {
      expect(verify(secret!, r.body, String(r.headers['chronicle-signature']), Math.floor(Date.now() / 1000))).toBe(true);
      expect(r.headers['chronicle-delivery']).toBe((JSON.parse(r.body) as { id: string }).id);
    }
    const log = await until('the delivery log', async () => {
      const d = await client.webhooks.deliveries(webhook.id);
      return d.filter((x) => x.ok).length >= 4 ? d : null;
    });
    expect(log.filter((d) => !d.ok)).toMatchObject([{ attempt: 1, statusCode: 500 }]);
    expect(log.find((d) => d.attempt === 2)).toMatchObject({ ok: true, statusCode: 200, deliveryId: bodies[0]!.id });
    await client.webhooks.delete(webhook.id);
    expect((await client.webhooks.list()).map((w) => w.id)).not.toContain(webhook.id);
  });
});

describe('CLI', () => {
  const cli = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [cliMain, '--url', server.url, '--token', server.adminToken, ...args], (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );

  it('deploy --wait exits 0 on success and 1 on failure', async () => {
    const created = await cli('env', 'create', 'cli-env', '--command', `${process.execPath} -e "process.exit(Number(process.env.CHRONICLE_MODEL_VERSION === '3'))"`, '--timeout', '20s');
    expect(created.code).toBe(0);
    const ok = await cli('--json', 'deploy', 'churn', '1', '--env', 'cli-env', '--wait', '--reason', 'from the CLI');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: 'SUCCEEDED', version: 1, reason: 'from the CLI' });
    const bad = await cli('deploy', 'churn', '3', '--env', 'cli-env', '--wait');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('failed');
    const list = await cli('deployments', '--env', 'cli-env');
    expect(list.stdout).toContain('from the CLI');
  });
});

describe('restarts', () => {
  it('a deployment cut off by a restart is failed explicitly and rolled back, never left started', async () => {
    const s = await startChronicle({ env: { CHRONICLE_DELIVERY_BACKOFF_MS: '100' } });
    try {
      const c = createClient({ url: s.url, token: s.adminToken });
      await seedModel(c, s.url, s.adminToken, 'churn');
      const out = join(scratch, 'restart.json');
      await c.deployments.createEnvironment('prod', { command: recordArgv(out) }, { timeoutMs: 60_000 });
      const good = await c.deployments.waitFor((await c.deployments.deploy('prod', 'churn', 1)).id);
      expect(good.status).toBe('SUCCEEDED');
      writeFileSync(`${out}.hang-2`, '');
      const cut = await c.deployments.deploy('prod', 'churn', 2);
      await until('the deployment to start', async () => (await c.deployments.get(cut.id)).status === 'STARTED');
      // A clean stop: the hanging command is killed, not waited for until the grace period ends
      // (which exits 1 and leaves the command running after the server).
      expect(await s.kill('SIGTERM')).toBe(0);
      const again = await s.restart();
      const c2 = createClient({ url: again.url, token: again.adminToken });
      const failed = await c2.deployments.get(cut.id);
      expect(failed.status).toBe('FAILED');
      expect(failed.error).toContain('interrupted');
      const rollback = await until('the rollback', async () => {
        const d = (await c2.deployments.list('prod')).nodes.find((x) => x.rollbackOf === cut.id);
        return d?.status === 'SUCCEEDED' ? d : null;
      });
      expect(rollback).toMatchObject({ version: 1, restores: good.id });
      await again.dispose();
    } finally {
      await s.dispose();
    }
  });
});
