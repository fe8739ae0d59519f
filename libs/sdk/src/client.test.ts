import { describe, expect, it } from 'vitest';
import { createClient } from './client.js';
import { ChronicleApiError, ChronicleNetworkError } from './errors.js';

interface Call {
  url: string;
  headers: Headers;
  body: any;
}

/** A fetch double answering from a script of responses (or errors to throw), recording calls. */
function scriptedFetch(...answers: (Response | Error | ((call: Call) => Response | Error))[]) {
  const calls: Call[] = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(input), headers: new Headers(init?.headers), body: JSON.parse(String(init?.body ?? 'null')) };
    calls.push(call);
    let a = answers.shift();
    if (typeof a === 'function') a = a(call);
    if (!a) throw new Error('unexpected request');
    if (a instanceof Error) throw a;
    return a;
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const fast = { retry: { attempts: 3, baseDelayMs: 1 } };

describe('createClient', () => {
  it('turns GraphQL errors into ChronicleApiError with the code, the REST status and the details', async () => {
    const { fetch } = scriptedFetch(
      json({ errors: [{ message: 'param "lr" is already "0.1"', extensions: { code: 'BAD_USER_INPUT', key: 'lr' } }], data: null }),
    );
    const c = createClient({ url: 'http://x', fetch });
    const err = await c.runs.logParams('r1', { lr: 0.2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChronicleApiError);
    expect(err).toMatchObject({ code: 'BAD_USER_INPUT', status: 400, details: { key: 'lr' }, message: 'param "lr" is already "0.1"' });
  });

  it('turns REST errors into ChronicleApiError', async () => {
    const { fetch } = scriptedFetch(json({ error: { code: 'NOT_FOUND', message: 'run r9 does not exist', runId: 'r9' } }, 404));
    const c = createClient({ url: 'http://x', fetch });
    await expect(c.runs.logMetrics('r9', [{ key: 'a', value: 1 }])).rejects.toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
      details: { runId: 'r9' },
    });
  });

  it('sends NaN and infinities as strings, with the auth header', async () => {
    const { fetch, calls } = scriptedFetch(json({ runId: 'r1', accepted: 3, position: 1, replayed: false }));
    const c = createClient({ url: 'http://x/', fetch, token: 'chr_secret' });
    await c.runs.logMetrics('r1', [
      { key: 'a', value: Number.NaN },
      { key: 'a', value: Number.POSITIVE_INFINITY, step: 1 },
      { key: 'a', value: Number.NEGATIVE_INFINITY, step: 2, timestamp: 5 },
    ]);
    expect(calls[0]!.url).toBe('http://x/api/v1/runs/r1/metrics');
    expect(calls[0]!.headers.get('authorization')).toBe('Bearer chr_secret');
    expect(calls[0]!.body).toEqual([
      { key: 'a', value: 'NaN' },
      { key: 'a', value: 'Infinity', step: 1 },
      { key: 'a', value: '-Infinity', step: 2, timestamp: 5 },
    ]);
  });

  it('retries network errors and 5xx with the same idempotency key', async () => {
    const { fetch, calls } = scriptedFetch(
      new TypeError('fetch failed'),
      json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'oops' } }, 500),
      json({ runId: 'r1', accepted: 1, position: 7, replayed: true }),
    );
    const c = createClient({ url: 'http://x', fetch, ...fast });
    const res = await c.runs.logMetrics('r1', [{ key: 'a', value: 1 }]);
    expect(res).toMatchObject({ accepted: 1, replayed: true });
    const keys = calls.map((c) => c.headers.get('idempotency-key'));
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(keys).size).toBe(1);
  });

  it('does not retry a request the server refused', async () => {
    const { fetch, calls } = scriptedFetch(json({ error: { code: 'BAD_USER_INPUT', message: 'bad key' } }, 400));
    const c = createClient({ url: 'http://x', fetch, ...fast });
    await expect(c.runs.logMetrics('r1', [{ key: 'a', value: 1 }])).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(calls).toHaveLength(1);
  });

  it('gives up after the last attempt with a ChronicleNetworkError', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const { fetch, calls } = scriptedFetch(refused, refused, refused);
    const c = createClient({ url: 'http://x', fetch, ...fast });
    const err = await c.experiments.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChronicleNetworkError);
    expect(err).toMatchObject({ code: 'NETWORK_ERROR', message: expect.stringContaining('ECONNREFUSED') });
    expect(calls).toHaveLength(3);
  });

  it('times out a request that gets no answer', async () => {
    const hang = (async (_u: unknown, init?: RequestInit) =>
      new Promise((_resolve, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)))) as typeof fetch;
    const c = createClient({ url: 'http://x', fetch: hang, timeoutMs: 20, ...fast });
    await expect(c.runs.get('r1')).rejects.toMatchObject({ name: 'ChronicleNetworkError', code: 'TIMEOUT' });
  }, 5_000);

  it('startRun by name creates the experiment, and uses the winner when another client created it first', async () => {
    const notFound = json({ errors: [{ message: 'no experiment', extensions: { code: 'NOT_FOUND' } }], data: null });
    const conflict = json({ errors: [{ message: 'taken', extensions: { code: 'CONFLICT' } }], data: null });
    const experiment = { id: 'e7', name: 'mnist', description: '', lifecycle: 'ACTIVE', createdAt: 1, updatedAt: 1, createdBy: 'x', runCount: 0, tags: [] };
    const run = { id: 'r1', experimentId: 'e7', metrics: [], params: [], tags: [] };
    const { fetch, calls } = scriptedFetch(
      notFound,
      conflict,
      json({ data: { experiment } }),
      json({ data: { run } }),
      json({ data: { run } }),
    );
    const c = createClient({ url: 'http://x', fetch });
    const active = await c.startRun({ experimentName: 'mnist', params: { lr: 0.1, opt: { name: 'adam' } }, tags: [{ key: 't', value: 'v' }] });
    expect(active.experimentId).toBe('e7');
    expect(calls[3]!.body.variables.input).toMatchObject({ experimentId: 'e7', tags: [{ key: 't', value: 'v' }] });
    expect(calls[4]!.body.variables.params).toEqual([
      { key: 'lr', value: '0.1' },
      { key: 'opt', value: '{"name":"adam"}' },
    ]);
  });
});
