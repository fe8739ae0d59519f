import { randomUUID } from 'node:crypto';
import { ChronicleApiError, ChronicleNetworkError, createClient, type ChronicleClient } from '@chronicle/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

const RUN_QUERY = `query($id: ID!) {
  run(id: $id) { status endTime experiment { name } params { key value } tags { key value } metrics { key value count } }
}`;
const HISTORY_QUERY = `query($runId: ID!, $key: String!) {
  metricHistory(runId: $runId, key: $key, first: 100000) { totalCount points { step value timestamp } }
}`;

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Counts the requests a client makes to the bulk endpoint, and their idempotency keys. */
function countingFetch() {
  const keys: string[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    if (String(input).includes('/metrics')) keys.push(new Headers(init?.headers).get('idempotency-key') ?? '');
    return globalThis.fetch(input, init);
  };
  return { fetch, keys };
}

describe('SDK against a real server', () => {
  let server: ChronicleProcess;
  let client: ChronicleClient;
  const history = async (runId: string, key: string) =>
    (await gql(server.url, HISTORY_QUERY, { runId, key })).body.data.metricHistory as {
      totalCount: number;
      points: { step: number; value: number | string; timestamp: number }[];
    };

  beforeAll(async () => {
    server = await startChronicle();
    client = createClient({ url: server.url });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('logs a run by experiment name: params, tags, batched metrics incl. NaN/Infinity, finish', async () => {
    const experimentName = unique('sdk-e2e');
    const counting = countingFetch();
    const c = createClient({ url: server.url, fetch: counting.fetch });
    const before = Date.now();
    const run = await c.startRun({
      experimentName,
      name: 'baseline',
      params: { lr: 0.01, layers: 3, optimizer: 'adam' },
      tags: { team: 'vision' },
      maxBatchPoints: 1000,
      flushIntervalMs: 20,
    });

    const loss: number[] = [];
    for (let step = 0; step < 2500; step++) {
      loss.push(1 / (step + 1));
      run.logMetric('loss', 1 / (step + 1), step);
    }
    run.logMetrics({ acc: 0.25, weird: Number.NaN }, 0);
    run.logMetrics({ acc: 0.5, weird: Number.POSITIVE_INFINITY }, 1);
    run.logMetric('weird', Number.NEGATIVE_INFINITY, 2);
    const after = Date.now();
    await run.setTags({ phase: 'train' });

    // Sent in the background, in several batches, before anyone calls flush or finish.
    await expect.poll(() => run.pendingPoints, { timeout: 5_000 }).toBe(0);
    expect((await history(run.id, 'loss')).totalCount).toBe(2500);
    expect(counting.keys.length).toBeGreaterThanOrEqual(3);
    expect(new Set(counting.keys).size).toBe(counting.keys.length);

    const finished = await run.finish();
    expect(finished.status).toBe('FINISHED');
    expect(() => run.logMetric('loss', 0, 9999)).toThrow(/finished/);

    const { body } = await gql(server.url, RUN_QUERY, { id: run.id });
    const r = body.data.run;
    expect(r.status).toBe('FINISHED');
    expect(r.endTime).toBeGreaterThanOrEqual(before);
    expect(r.experiment.name).toBe(experimentName);
    expect(r.params).toEqual(
      expect.arrayContaining([
        { key: 'lr', value: '0.01' },
        { key: 'layers', value: '3' },
        { key: 'optimizer', value: 'adam' },
      ]),
    );
    expect(r.params).toHaveLength(3);
    expect(r.tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'vision' }, { key: 'phase', value: 'train' }]));

    // Every point exactly once, with the value, step and call-time timestamp it was logged with.
    const lossHistory = await history(run.id, 'loss');
    expect(lossHistory.totalCount).toBe(2500);
    expect(lossHistory.points.map((p) => p.step)).toEqual(loss.map((_, i) => i));
    expect(lossHistory.points.map((p) => p.value)).toEqual(loss);
    for (const p of lossHistory.points) {
      expect(p.timestamp).toBeGreaterThanOrEqual(before);
      expect(p.timestamp).toBeLessThanOrEqual(after);
    }
    expect((await history(run.id, 'acc')).points.map((p) => [p.step, p.value])).toEqual([
      [0, 0.25],
      [1, 0.5],
    ]);
    expect((await history(run.id, 'weird')).points.map((p) => [p.step, p.value])).toEqual([
      [0, 'NaN'],
      [1, 'Infinity'],
      [2, '-Infinity'],
    ]);

    // And read back through the SDK, the strings are numbers again.
    const viaSdk = await client.runs.metricHistory(run.id, 'weird');
    expect(viaSdk.points.map((p) => p.value)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    const latest = (await client.runs.get(run.id)).metrics.find((m) => m.key === 'loss');
    expect(latest).toMatchObject({ step: 2499, value: 1 / 2500, count: 2500 });
  });

  it('creates the experiment once when several runs start by the same new name at once', async () => {
    const experimentName = unique('race');
    const runs = await Promise.all(Array.from({ length: 5 }, () => client.startRun({ experimentName })));
    expect(new Set(runs.map((r) => r.experimentId)).size).toBe(1);
    const experiment = await client.experiments.getByName(experimentName);
    expect(experiment.id).toBe(runs[0]!.experimentId);
    expect(experiment.runCount).toBe(5);
  });

  it('surfaces an immutable-param conflict as ChronicleApiError BAD_USER_INPUT', async () => {
    const run = await client.startRun({ experimentName: unique('params'), params: { lr: 0.1 } });
    await run.logParams({ lr: 0.1 }); // the same value again is fine
    const err = await run.logParams({ lr: 0.2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChronicleApiError);
    expect(err).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, details: { key: 'lr', oldValue: '0.1', newValue: '0.2' } });
    expect((err as Error).message).toMatch(/immutable/);
    const { body } = await gql(server.url, RUN_QUERY, { id: run.id });
    expect(body.data.run.params).toEqual([{ key: 'lr', value: '0.1' }]);
  });

  it('does not duplicate a batch retried after its answer was lost', async () => {
    const keys: string[] = [];
    const answers: { replayed: boolean; accepted: number }[] = [];
    let dropped = false;
    // The server processes the first request, then the answer "gets lost" on the way back.
    const lossy: typeof globalThis.fetch = async (input, init) => {
      const res = await globalThis.fetch(input, init);
      if (!String(input).includes('/metrics')) return res;
      keys.push(new Headers(init?.headers).get('idempotency-key') ?? '');
      answers.push((await res.clone().json()) as { replayed: boolean; accepted: number });
      if (!dropped) {
        dropped = true;
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      return res;
    };
    const c = createClient({ url: server.url, fetch: lossy, retry: { attempts: 3, baseDelayMs: 10 } });
    const run = await c.startRun({ experimentName: unique('retry') });
    for (let i = 0; i < 100; i++) run.logMetric('x', i, i);
    await run.flush();

    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(answers).toEqual([expect.objectContaining({ replayed: false, accepted: 100 }), expect.objectContaining({ replayed: true })]);
    const h = await history(run.id, 'x');
    expect(h.totalCount).toBe(100);
    expect(h.points.map((p) => p.step)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('throws a background flush failure on the next call instead of swallowing it', async () => {
    const reported: unknown[] = [];
    const run = await client.startRun({
      experimentName: unique('bg-error'),
      flushIntervalMs: 20,
      onFlushError: (e) => reported.push(e),
    });
    await gql(server.url, 'mutation($id: ID!) { deleteRun(runId: $id) { id } }', { id: run.id });
    run.logMetric('loss', 1, 0); // the server refuses this batch: the run is deleted
    await expect.poll(() => reported.length, { timeout: 5_000 }).toBe(1);
    expect(reported[0]).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(() => run.logMetric('loss', 2, 1)).toThrow(ChronicleApiError);

    // Reported once; after the run is restored, logging and finishing work again.
    await gql(server.url, 'mutation($id: ID!) { restoreRun(runId: $id) { id } }', { id: run.id });
    run.logMetric('loss', 3, 2);
    await run.finish();
    expect((await history(run.id, 'loss')).points.map((p) => [p.step, p.value])).toEqual([[2, 3]]);
  });

  it('searches, moves, deletes and restores runs', async () => {
    const a = await client.experiments.create({ name: unique('search-a'), description: 'A', tags: { owner: 'sdk' } });
    const b = await client.experiments.create({ name: unique('search-b') });
    expect(a.tags).toEqual([{ key: 'owner', value: 'sdk' }]);
    for (const acc of [0.7, 0.95, 0.9]) {
      const run = await client.startRun({ experimentId: a.id, params: { acc } });
      run.logMetric('acc', acc);
      await run.finish();
    }
    const page = await client.runs.search({ experimentIds: [a.id], filter: 'metrics.acc > 0.8', orderBy: ['metrics.acc DESC'] });
    expect(page.totalCount).toBe(2);
    expect(page.nodes.map((r) => r.metrics[0]!.value)).toEqual([0.95, 0.9]);

    const moved = await client.runs.move(page.nodes[0]!.id, b.id);
    expect(moved.experimentId).toBe(b.id);
    await client.runs.delete(moved.id);
    expect((await client.runs.search({ experimentIds: [b.id] })).totalCount).toBe(0);
    await client.runs.restore(moved.id);
    expect((await client.runs.search({ experimentIds: [b.id] })).nodes.map((r) => r.id)).toEqual([moved.id]);

    await client.experiments.delete(b.id);
    expect((await client.experiments.list()).map((e) => e.id)).not.toContain(b.id);
    expect((await client.experiments.restore(b.id)).lifecycle).toBe('ACTIVE');
    await expect(client.experiments.get('does-not-exist')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });

  it('reports an unreachable server as ChronicleNetworkError', async () => {
    const c = createClient({ url: `http://127.0.0.1:${await freePort()}`, retry: { attempts: 2, baseDelayMs: 5 } });
    const err = await c.experiments.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChronicleNetworkError);
    expect(err).toMatchObject({ code: 'NETWORK_ERROR', message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('SDK authentication (loopback role none)', () => {
  let server: ChronicleProcess;

  beforeAll(async () => {
    server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none' } });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('refuses requests without a token or with a bad one as UNAUTHENTICATED', async () => {
    for (const token of [undefined, 'chr_0000000000000000_not-a-real-secret']) {
      const c = createClient({ url: server.url, ...(token ? { token } : {}) });
      const err = await c.experiments.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChronicleApiError);
      expect(err).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
      // The bulk endpoint refuses it the same way.
      await expect(c.runs.logMetrics('0', [{ key: 'a', value: 1 }])).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    }
    await expect(createClient({ url: server.url, token: 'bogus' }).startRun()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('acts as the token user, and refuses writes to a viewer with FORBIDDEN', async () => {
    const admin = createClient({ url: server.url, token: server.adminToken });
    expect(await admin.users.me()).toMatchObject({ username: 'admin', role: 'ADMIN', authenticatedBy: expect.stringMatching(/^token:/) });
    const run = await admin.startRun({ experimentName: unique('auth') });
    run.logMetric('loss', 0.5, 1);
    expect((await run.finish()).status).toBe('FINISHED');

    const username = unique('viewer').replace('-', '');
    await admin.users.create(username, 'VIEWER');
    const { secret, token } = await admin.tokens.create({ name: 'read-only', username });
    expect(token.username).toBe(username);
    const viewer = createClient({ url: server.url, token: secret });
    expect((await viewer.runs.get(run.id)).status).toBe('FINISHED');
    await expect(viewer.startRun({ experimentId: run.experimentId })).rejects.toMatchObject({ code: 'FORBIDDEN', status: 403 });

    await admin.tokens.revoke(token.id);
    await expect(viewer.runs.get(run.id)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('revoked') });
  });
});
