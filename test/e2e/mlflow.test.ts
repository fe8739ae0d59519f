import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

// The MLflow REST API against a real server process; the Python suite (python/tests/mlflow)
// drives the same API with the real mlflow clients.
let server: ChronicleProcess;
const auth = () => ({ authorization: `Bearer ${server.adminToken}` });

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/api/2.0/mlflow${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...auth() },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  server = await startChronicle();
});
afterAll(() => server?.dispose());

describe('the MLflow tracking API', () => {
  it('answers errors in MLflow shape and status', async () => {
    expect(await call('GET', '/runs/get?run_id=nope')).toEqual({
      status: 404,
      body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Run with id=nope not found' },
    });
    const missing = await call('POST', '/runs/log-metric', { key: 'a', value: 1 });
    expect(missing.status).toBe(400);
    expect(missing.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect((await call('POST', '/nowhere', {})).body.error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  it('records a retried log-batch once, and never merges two identical create-run requests', async () => {
    const create = { experiment_id: '0', start_time: 1_700_000_000_000, run_name: 'twin' };
    const a = (await call('POST', '/runs/create', create)).body.run.info.run_id;
    const b = (await call('POST', '/runs/create', create)).body.run.info.run_id;
    expect(a).not.toBe(b);
    const batch = { run_id: a, metrics: Array.from({ length: 50 }, (_, i) => ({ key: 'loss', value: i === 3 ? 'NaN' : i, timestamp: 5, step: i })) };
    expect(await call('POST', '/runs/log-batch', batch)).toEqual({ status: 200, body: {} });
    expect(await call('POST', '/runs/log-batch', batch)).toEqual({ status: 200, body: {} });
    const h = await gql(server.url, 'query($r: ID!) { metricHistory(runId: $r, key: "loss") { totalCount } }', { r: a }, auth());
    expect(h.body.data.metricHistory.totalCount).toBe(50);
    const history = await call('GET', `/metrics/get-history?run_id=${a}&metric_key=loss`);
    expect(history.body.metrics[3]).toEqual({ key: 'loss', value: 'NaN', timestamp: 5, step: 3 });
  });
});
