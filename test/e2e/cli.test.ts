import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, freePort, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a real process; the outer shell's CHRONICLE_* settings never leak in. */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHRONICLE_'))) as Record<string, string>;
  return new Promise((resolve) => {
    execFile(process.execPath, [cliMain, ...args], { env: { ...clean, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const HISTORY_QUERY = `query($runId: ID!, $key: String!) {
  metricHistory(runId: $runId, key: $key, first: 100000) { totalCount points { step value } }
}`;

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

describe('CLI against a real server', () => {
  let server: ChronicleProcess;
  let tmp: string;
  const run = (...args: string[]) => cli(['--url', server.url, ...args]);

  beforeAll(async () => {
    server = await startChronicle();
    tmp = mkdtempSync(join(tmpdir(), 'chronicle-cli-'));
  });
  afterAll(async () => {
    await server?.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('shows usage with --help', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: chronicle');
    for (const cmd of ['server', 'experiments', 'runs', 'tokens', 'users']) expect(top.stdout).toContain(cmd);
    expect(top.stdout).toContain('Examples:');

    const runs = await cli(['runs', '--help']);
    expect(runs.code).toBe(0);
    expect(runs.stdout).toMatch(/import-metrics \[options\] <runId> <file>/);
    expect(runs.stdout).toMatch(/chronicle runs log-metric \$RUN/);
  });

  it('creates an experiment, starts a run, logs, finishes, and lists and shows it', async () => {
    const name = unique('cli');
    const created = await run('experiments', 'create', name, '--description', 'from the CLI', '--tag', 'team=vision');
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const experimentId = created.stdout.trim();
    expect(experimentId).toMatch(/^\w+$/);

    const shown = await run('--json', 'experiments', 'show', name);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: experimentId, name, description: 'from the CLI', tags: [{ key: 'team', value: 'vision' }] });

    const started = await run('runs', 'start', '--experiment', name, '--name', 'baseline', '--param', 'lr=0.01', '--tag', 'phase=train');
    expect(started.code).toBe(0);
    const runId = started.stdout.trim();
    expect(runId).toMatch(/^\w+$/);

    expect((await run('runs', 'log-param', runId, 'batch=32', 'optimizer=adam')).code).toBe(0);
    const logged = await run('runs', 'log-metric', runId, 'loss=0.5', 'acc=nan', '--step', '3');
    expect(logged).toMatchObject({ code: 0 });
    expect(logged.stdout).toContain('logged 2 points');
    expect((await run('runs', 'log-metric', runId, 'loss=0.25', '--step', '4')).code).toBe(0);
    const finished = await run('runs', 'finish', runId);
    expect(finished).toMatchObject({ code: 0 });
    expect(finished.stdout).toContain('FINISHED');

    const listed = await run('runs', 'list', '--experiment', name, '--json');
    expect(listed.code).toBe(0);
    const page = JSON.parse(listed.stdout);
    expect(page.totalCount).toBe(1);
    expect(page.nodes[0]).toMatchObject({ id: runId, name: 'baseline', status: 'FINISHED', experimentId });

    const table = await run('runs', 'list', '--experiment', experimentId, '--order-by', 'metrics.loss ASC');
    expect(table.stdout).toMatch(new RegExp(`${runId}\\s+baseline\\s+FINISHED`));
    expect(table.stdout).toMatch(/\bloss\b/);

    const shownRun = JSON.parse((await run('runs', 'show', runId, '--json')).stdout);
    expect(shownRun.status).toBe('FINISHED');
    expect(shownRun.params).toEqual(
      expect.arrayContaining([
        { key: 'lr', value: '0.01' },
        { key: 'batch', value: '32' },
        { key: 'optimizer', value: 'adam' },
      ]),
    );
    expect(shownRun.tags).toEqual([{ key: 'phase', value: 'train' }]);
    expect(shownRun.metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'loss', value: 0.25, step: 4, count: 2 }),
        expect.objectContaining({ key: 'acc', value: 'NaN', step: 3, count: 1 }),
      ]),
    );

    const text = await run('runs', 'show', runId);
    expect(text.stdout).toContain('lr = 0.01');
    expect(text.stdout).toMatch(/Experiment\s+cli-\w+ \(/);

    const { body } = await gql(server.url, HISTORY_QUERY, { runId, key: 'acc' });
    expect(body.data.metricHistory.points).toEqual([{ step: 3, value: 'NaN' }]);
  });

  it('imports a CSV file in batches, without duplicates when re-run, and charts it', async () => {
    const runId = (await run('runs', 'start', '--experiment', '0')).stdout.trim();
    const file = join(tmp, 'points.csv');
    const rows = ['key,step,value,timestamp'];
    for (let i = 0; i < 25_000; i++) rows.push(`loss,${i},${(Math.sin(i / 1000) + 2).toFixed(6)},${1_700_000_000_000 + i}`);
    rows.push('"loss",25000,NaN,2024-01-01T00:00:00Z');
    writeFileSync(file, rows.join('\n') + '\n');

    const first = await run('runs', 'import-metrics', runId, file, '--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ points: 25_001, batches: 3, replayedBatches: 0 });
    // Same file again: every batch has the same idempotency key, so nothing is written twice.
    const again = await run('runs', 'import-metrics', runId, file);
    expect(again.stdout).toContain('3 already imported before');

    const { body } = await gql(server.url, HISTORY_QUERY, { runId, key: 'loss' });
    expect(body.data.metricHistory.totalCount).toBe(25_001);
    expect(body.data.metricHistory.points.at(-1)).toEqual({ step: 25_000, value: 'NaN' });

    const ndjson = join(tmp, 'points.ndjson');
    writeFileSync(ndjson, '{"key":"acc","value":0.5,"step":1}\n\n{"key":"acc","value":"Infinity","step":2}\n');
    expect((await run('runs', 'import-metrics', runId, ndjson)).stdout).toMatch(/imported 2 points in 1 batch /);

    const chart = await run('runs', 'metric', runId, 'loss', '--max-points', '30');
    expect(chart.code).toBe(0);
    expect(chart.stdout).toContain('25001 points stored');
    expect(chart.stdout).toMatch(/\|[ *]*\*/);
    expect(chart.stdout).toContain('step 0');
    const series = JSON.parse((await run('--json', 'runs', 'metric', runId, 'loss', '--max-points', '30')).stdout);
    expect(series.points.length).toBeLessThanOrEqual(30);
    expect(series.totalPoints).toBe(25_001);
  });

  it('reports a bad line of an import file with its line number', async () => {
    const runId = (await run('runs', 'start', '--experiment', '0')).stdout.trim();
    const file = join(tmp, 'bad.ndjson');
    writeFileSync(file, '{"key":"a","value":1}\n{"key":"a","value":"lots"}\n');
    const res = await run('runs', 'import-metrics', runId, file);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error: .*bad\.ndjson line 2: value "lots" is not a number.*\(BAD_USER_INPUT\)/);
  });

  it('exits 1 with "error: <message> (<CODE>)" and no stack trace when the server refuses', async () => {
    const missing = await run('runs', 'show', 'no-such-run');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^error: run no-such-run does not exist \(NOT_FOUND\)\n/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);

    const runId = (await run('runs', 'start', '--experiment', '0', '--param', 'lr=0.1')).stdout.trim();
    const conflict = await run('runs', 'log-param', runId, 'lr=0.2');
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/^error: .*immutable.*\(BAD_USER_INPUT\)/);

    const debug = await cli(['--url', server.url, 'runs', 'show', 'no-such-run'], { CHRONICLE_DEBUG: '1' });
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('exits 2 on usage errors', async () => {
    const badValue = await run('runs', 'log-metric', 'r1', 'loss=abc');
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/error: .*"abc" is not a number/);
    const missingArg = await run('experiments', 'create');
    expect(missingArg.code).toBe(2);
    expect(missingArg.stderr).toContain("error: missing required argument 'name'");
    expect((await run('runs', 'finish', 'r1', '--status', 'DONE')).code).toBe(2);
    expect((await run('nonsense')).code).toBe(2);
  });

  it('reports an unreachable server as NETWORK_ERROR', async () => {
    const res = await cli(['--url', 'http://127.0.0.1:9', 'experiments', 'list']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error: cannot reach Chronicle at http:\/\/127\.0\.0\.1:9: .*\(NETWORK_ERROR\)/);
  });

  it('moves, deletes and restores runs and experiments, and manages users', async () => {
    const target = unique('target');
    const targetId = (await run('experiments', 'create', target)).stdout.trim();
    const runId = (await run('runs', 'start', '--experiment', '0')).stdout.trim();
    expect((await run('runs', 'move', runId, target)).stdout).toContain(`to experiment ${target}`);
    expect((await run('runs', 'delete', runId)).code).toBe(0);
    expect(JSON.parse((await run('--json', 'runs', 'list', '-e', targetId)).stdout).totalCount).toBe(0);
    expect((await run('runs', 'restore', runId)).code).toBe(0);
    expect(JSON.parse((await run('--json', 'runs', 'list', '-e', targetId)).stdout).nodes[0].id).toBe(runId);

    expect((await run('experiments', 'delete', target)).stdout).toContain('deleted experiment');
    expect((await run('experiments', 'list')).stdout).not.toContain(target);
    expect((await run('experiments', 'list', '--deleted')).stdout).toContain(target);
    expect((await run('experiments', 'restore', targetId)).code).toBe(0);

    const username = `ada${randomUUID().slice(0, 6)}`;
    expect((await run('users', 'create', username, '--role', 'member')).code).toBe(0);
    expect((await run('users', 'set-role', username, 'viewer')).code).toBe(0);
    const users = JSON.parse((await run('--json', 'users', 'list')).stdout);
    expect(users).toEqual(expect.arrayContaining([expect.objectContaining({ username, role: 'VIEWER' })]));
  });
});

describe('CLI tokens (server with loopback role none)', () => {
  let server: ChronicleProcess;

  beforeAll(async () => {
    server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none' } });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('creates a token that works, and refuses it once revoked', async () => {
    const asAdmin = (...args: string[]) => cli(['--url', server.url, '--token', server.adminToken, ...args]);

    const noToken = await cli(['--url', server.url, 'experiments', 'list']);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/^error: .*\(UNAUTHENTICATED\)/);

    const created = await asAdmin('tokens', 'create', 'ci-bot', '--expires-in-days', '30');
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^\S{20,}$/);
    expect(created.stderr).toMatch(/warning: store this secret now; it cannot be shown again/);
    const tokenId = /tokens revoke (\S+)/.exec(created.stderr)![1]!;

    // The token works, from the flag and from CHRONICLE_TOKEN.
    const me = await cli(['--url', server.url, '--token', secret, '--json', 'whoami']);
    expect(JSON.parse(me.stdout)).toMatchObject({ username: 'admin', authenticatedBy: `token:${tokenId}` });
    const viaEnv = await cli(['experiments', 'list'], { CHRONICLE_URL: server.url, CHRONICLE_TOKEN: secret });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stdout).toContain('Default');

    const listed = JSON.parse((await asAdmin('--json', 'tokens', 'list')).stdout);
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ id: tokenId, name: 'ci-bot', revokedAt: null })]));

    const revoked = await asAdmin('tokens', 'revoke', tokenId);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked token ${tokenId}`);

    const refused = await cli(['--url', server.url, '--token', secret, 'experiments', 'list']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: .*revoked.*\(UNAUTHENTICATED\)/);
    expect(refused.stderr).toContain('hint: pass --token');
  });

  it('issues a token for another user, who acts with that user\'s role', async () => {
    const asAdmin = (...args: string[]) => cli(['--url', server.url, '--token', server.adminToken, ...args]);
    const username = `bob${randomUUID().slice(0, 6)}`;
    expect((await asAdmin('users', 'create', username, '--role', 'viewer')).code).toBe(0);
    const created = JSON.parse((await asAdmin('--json', 'tokens', 'create', 'laptop', '--user', username)).stdout);
    expect(created.token.username).toBe(username);
    const asBob = (...args: string[]) => cli(['--url', server.url, '--token', created.secret, ...args]);
    expect((await asBob('experiments', 'list')).code).toBe(0);
    const forbidden = await asBob('experiments', 'create', unique('nope'));
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^error: .*\(FORBIDDEN\)/);
  });
});

describe('chronicle server', () => {
  it('starts with flags that override the environment, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chronicle-cli-server-'));
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [cliMain, 'server', '--port', String(port), '--data-dir', dataDir, '--loopback-role', 'none', '--log-level', 'warn'],
      // The environment says admin on another port; the flags must win.
      { env: { ...process.env, CHRONICLE_LOOPBACK_ROLE: 'admin', CHRONICLE_PORT: '1', CHRONICLE_HOST: '127.0.0.1' }, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}`;
      await expect
        .poll(async () => (await fetch(`${url}/healthz`).catch(() => null))?.status, { timeout: 20_000, interval: 100 })
        .toBe(200);
      expect(existsSync(join(dataDir, 'admin-token'))).toBe(true);

      const anonymous = await gql(url, '{ me { username } }');
      expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const me = await gql(url, '{ me { username role } }', {}, { authorization: `Bearer ${token}` });
      expect(me.body.data.me).toEqual({ username: 'admin', role: 'ADMIN' });

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
