import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Principal } from '@chronicle/domain';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { startServer, type RunningServer } from '../server.js';

const admin: Principal = { username: 'tester', role: 'admin', via: { kind: 'system' } };
const ctx = { principal: admin };

let server: RunningServer;
let dataDir: string;
let runId: string;
const serverSockets: Socket[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chronicle-mlflow-registry-'));
  server = await startServer(loadConfig({}, { dataDir, port: 0, host: '127.0.0.1' }), pino({ level: 'silent' }));
  server.app.server.on('connection', (s: Socket) => serverSockets.push(s));
  const { commands, blobs } = server.platform;
  const { experimentId } = await commands.experiments.create(ctx, { name: 'registry-test' });
  ({ runId } = await commands.runs.start(ctx, { experimentId }));
  for (const [path, content] of [
    ['model/MLmodel', 'flavors: {}\n'],
    ['model/weights.bin', 'w'.repeat(100)],
  ] as const) {
    const blob = await blobs.put(Readable.from([Buffer.from(content)]));
    await commands.artifacts.log(ctx, { runId, path, sha256: blob.sha256, size: blob.size, contentType: 'application/octet-stream' });
  }
});

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const api = (path: string, body: unknown) =>
  fetch(`${server.url}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * Sends a request whose answer is lost: the client's connection resets after the command has
 * committed but before the server answers, as when a proxy or the client times out.
 */
async function sendAndLoseAnswer(path: string, body: unknown, method: 'createVersion' | 'register') {
  const models = server.platform.commands.models;
  const real = models[method] as (...a: unknown[]) => Promise<unknown>;
  let committed!: () => void;
  const didCommit = new Promise<void>((r) => (committed = r));
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  // The real command runs; only its answer is held back until the client is gone.
  (models as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    const result = await real(...args);
    committed();
    await held;
    return result;
  };
  try {
    const payload = JSON.stringify(body);
    const client = connect(Number(new URL(server.url).port), '127.0.0.1');
    // The reset is the point; its echo on this side is expected.
    client.on('error', () => {});
    await once(client, 'connect');
    const before = serverSockets.length;
    client.write(
      `POST /api/2.0/mlflow/${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
    );
    await didCommit;
    const serverSide = serverSockets[before - 1] ?? serverSockets.at(-1)!;
    // (events.once would reject on the reset's 'error'; only the close matters here.)
    const closed = new Promise<void>((r) => serverSide.once('close', () => r()));
    client.resetAndDestroy();
    await closed;
  } finally {
    release();
    (models as Record<string, unknown>)[method] = real;
  }
}

async function versionsOf(name: string) {
  // The held answer is written (to nobody) once released; let that settle before counting.
  await new Promise((r) => setTimeout(r, 50));
  return server.platform.read.models.versions(name).map((v) => v.version).sort();
}

describe('a blind retry of a create whose answer was lost', () => {
  it('answers with the version already made, and a later identical request makes a new one', async () => {
    expect((await api('registered-models/create', { name: 'lost-version' })).status).toBe(200);
    const body = { name: 'lost-version', source: `runs:/${runId}/model`, run_id: runId };
    await sendAndLoseAnswer('model-versions/create', body, 'createVersion');
    expect(await versionsOf('lost-version')).toEqual([1]);

    const retried = await api('model-versions/create', body);
    expect(((await retried.json()) as { model_version: { version: string } }).model_version.version).toBe('1');
    expect(await versionsOf('lost-version')).toEqual([1]);

    // That answer arrived: the client sending the same request again means a second version.
    const again = await api('model-versions/create', body);
    expect(((await again.json()) as { model_version: { version: string } }).model_version.version).toBe('2');
    expect(await versionsOf('lost-version')).toEqual([1, 2]);
  });

  it('lets the retry of a registration succeed instead of failing as "already exists"', async () => {
    await sendAndLoseAnswer('registered-models/create', { name: 'lost-model', description: 'd' }, 'register');
    expect(server.platform.read.models.get('lost-model')).not.toBeNull();
    const retried = await api('registered-models/create', { name: 'lost-model', description: 'd' });
    expect(retried.status).toBe(200);
    const twice = await api('registered-models/create', { name: 'lost-model', description: 'd' });
    expect(twice.status).toBe(400);
    expect(await twice.json()).toMatchObject({ error_code: 'RESOURCE_ALREADY_EXISTS' });
  });
});

describe('promotion gates through the MLflow API', () => {
  it('refuses with INVALID_STATE naming every failing rule, and records the refusal', async () => {
    await api('registered-models/create', { name: 'gated' });
    await api('model-versions/create', { name: 'gated', source: `runs:/${runId}/model` });
    await server.platform.commands.promotion.setGates(ctx, {
      model: 'gated',
      target: 'Production',
      metricRules: ['metrics.auc >= 0.9', 'metrics.latency_ms <= 20'],
      approval: { count: 1, minRole: 'maintainer' },
    });
    const res = await api('model-versions/transition-stage', { name: 'gated', version: '1', stage: 'production', archive_existing_versions: false });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error_code: string; message: string };
    expect(body.error_code).toBe('INVALID_STATE');
    for (const rule of ['metrics.auc >= 0.9', 'metrics.latency_ms <= 20', '[approval]']) expect(body.message).toContain(rule);
    expect(server.platform.read.models.version('gated', 1)?.stage).toBe('None');
    expect(server.platform.read.promotion.refusals('gated', 10)).toHaveLength(1);
  });
});
