import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

let server: ChronicleProcess;
let runId: string;

const auth = () => ({ authorization: `Bearer ${server.adminToken}` });

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth(), ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function history(run: string, key: string) {
  const r = await gql(server.url, 'query($r: ID!, $k: String!) { metricHistory(runId: $r, key: $k, first: 100000) { totalCount points { step value timestamp } } }', { r: run, k: key }, auth());
  return r.body.data.metricHistory as { totalCount: number; points: { step: number; value: number | string; timestamp: number }[] };
}

beforeAll(async () => {
  server = await startChronicle();
  const r = await gql(server.url, 'mutation { startRun(input: { experimentId: "0", name: "ingest" }) { id } }', {}, auth());
  runId = r.body.data.startRun.id;
});
afterAll(() => server?.dispose());

describe('bulk metric ingestion over REST', () => {
  it('accepts a JSON array and makes it queryable before answering', async () => {
    const points = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), step: i, timestamp: 1_000 + i }));
    const r = await post(`/api/v1/runs/${runId}/metrics`, JSON.stringify(points));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ runId, accepted: 1000, replayed: false });
    const h = await history(runId, 'loss');
    expect(h.totalCount).toBe(1000);
    expect(h.points[999]).toEqual({ step: 999, value: 1 / 1000, timestamp: 1999 });
  });

  it('accepts NDJSON with NaN and infinities as strings', async () => {
    const body = ['{"key":"nd","value":1,"step":0}', '{"key":"nd","value":"NaN","step":1}', '', '{"key":"nd","value":"-Infinity","step":2}'].join('\n');
    const r = await post(`/api/v1/runs/${runId}/metrics`, body, { 'content-type': 'application/x-ndjson' });
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(3);
    expect((await history(runId, 'nd')).points.map((p) => p.value)).toEqual([1, 'NaN', '-Infinity']);
  });

  it('does not duplicate a retried batch with the same Idempotency-Key', async () => {
    const body = JSON.stringify([{ key: 'idem', value: 1, step: 0 }, { key: 'idem', value: 2, step: 1 }]);
    const a = await post(`/api/v1/runs/${runId}/metrics`, body, { 'idempotency-key': 'batch-1' });
    const b = await post(`/api/v1/runs/${runId}/metrics`, body, { 'idempotency-key': 'batch-1' });
    expect(b.body).toMatchObject({ replayed: true, position: a.body.position, accepted: 2 });
    expect((await history(runId, 'idem')).totalCount).toBe(2);
  });

  it('names the bad point, and answers typed errors with statuses', async () => {
    const bad = await post(`/api/v1/runs/${runId}/metrics`, JSON.stringify([{ key: 'a', value: 1 }, { key: 'a', value: 'high' }]));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'BAD_USER_INPUT', index: 1 });
    expect(bad.body.error.message).toMatch(/point 1/);
    const step = await post(`/api/v1/runs/${runId}/metrics`, JSON.stringify([{ key: 'a', value: 1, step: 1.5 }]));
    expect(step.body.error.message).toMatch(/step must be an integer/);
    const shape = await post(`/api/v1/runs/${runId}/metrics`, JSON.stringify({ points: [] }));
    expect(shape.status).toBe(400);
    const json = await post(`/api/v1/runs/${runId}/metrics`, '[{"key": ');
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('BAD_USER_INPUT');
    const nd = await post(`/api/v1/runs/${runId}/metrics`, '{"key":"a","value":1}\n{oops', { 'content-type': 'application/x-ndjson' });
    expect(nd.body.error).toMatchObject({ code: 'BAD_USER_INPUT', line: 2 });
    const missing = await post('/api/v1/runs/nope/metrics', JSON.stringify([{ key: 'a', value: 1 }]));
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const type = await post(`/api/v1/runs/${runId}/metrics`, 'a,b', { 'content-type': 'text/csv' });
    expect(type.status).toBe(415);
    const noToken = await fetch(`${server.url}/api/v1/runs/${runId}/metrics`, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong' } });
    expect(noToken.status).toBe(401);
  });

  it('says 404 with JSON for unknown routes', async () => {
    const res = await fetch(`${server.url}/api/v1/nothing`, { headers: auth() });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('NOT_FOUND');
  });
});

describe('restart durability', () => {
  it('keeps every acknowledged point after SIGKILL mid-ingestion, none twice', async () => {
    const own = await startChronicle();
    try {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${own.adminToken}` };
      const start = await gql(own.url, 'mutation { startRun(input: { experimentId: "0" }) { id } }', {}, headers);
      const run = start.body.data.startRun.id as string;
      const BATCH = 2000;
      const acked: number[] = [];
      const sent: { batch: number; body: string }[] = [];
      let killed = false;
      // Four concurrent writers, so the kill lands while requests are in flight.
      const writer = async (w: number) => {
        for (let b = w; !killed; b += 4) {
          const body = JSON.stringify(Array.from({ length: BATCH }, (_, i) => ({ key: 'm', value: b, step: b * BATCH + i })));
          sent.push({ batch: b, body });
          try {
            const res = await fetch(`${own.url}/api/v1/runs/${run}/metrics`, { method: 'POST', headers: { ...headers, 'idempotency-key': `b-${b}` }, body });
            if (res.status === 200) acked.push(b);
          } catch {
            return; // connection died with the server
          }
        }
      };
      const writers = [0, 1, 2, 3].map(writer);
      await new Promise((r) => setTimeout(r, 1500));
      killed = true;
      await own.kill('SIGKILL');
      await Promise.all(writers);
      expect(acked.length).toBeGreaterThan(4);

      const again = await own.restart();
      const steps: number[] = [];
      for (let after: string | null = null; ; ) {
        const h = await gql(again.url, 'query($r: ID!, $a: String) { metricHistory(runId: $r, key: "m", first: 100000, after: $a) { points { step } pageInfo { endCursor hasNextPage } } }', { r: run, a: after }, headers);
        steps.push(...h.body.data.metricHistory.points.map((p: { step: number }) => p.step));
        if (!h.body.data.metricHistory.pageInfo.hasNextPage) break;
        after = h.body.data.metricHistory.pageInfo.endCursor;
      }
      expect(new Set(steps).size).toBe(steps.length); // none twice
      const present = new Set(steps.map((s) => Math.floor(s / BATCH)));
      for (const b of acked) expect(present.has(b)).toBe(true); // every acknowledged batch
      for (const b of present) expect(steps.filter((s) => Math.floor(s / BATCH) === b)).toHaveLength(BATCH); // no half batch

      // Clients retry what they never saw acknowledged; keys make that safe.
      for (const { batch, body } of sent)
        await fetch(`${again.url}/api/v1/runs/${run}/metrics`, { method: 'POST', headers: { ...headers, 'idempotency-key': `b-${batch}` }, body });
      const after = await gql(again.url, 'query($r: ID!) { metricHistory(runId: $r, key: "m", first: 1) { totalCount } }', { r: run }, headers);
      expect(after.body.data.metricHistory.totalCount).toBe(sent.length * BATCH);
      await again.dispose();
    } finally {
      await own.dispose();
    }
  });

  it('keeps experiments and runs across a graceful restart', async () => {
    const own = await startChronicle();
    const headers = { authorization: `Bearer ${own.adminToken}` };
    await gql(own.url, 'mutation { createExperiment(input: { name: "survives" }) { id } }', {}, headers);
    expect(await own.kill('SIGTERM')).toBe(0);
    const again = await own.restart();
    const r = await gql(again.url, '{ experiment(name: "survives") { name } }', {}, headers);
    expect(r.body.data.experiment.name).toBe('survives');
    await again.dispose();
  });
});
