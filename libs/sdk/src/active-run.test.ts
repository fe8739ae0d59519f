import { describe, expect, it } from 'vitest';
import { ActiveRun } from './active-run.js';
import { ChronicleApiError, ChronicleNetworkError } from './errors.js';
import type { RunsApi } from './runs.js';
import type { IngestResult, MetricPointInput } from './types.js';

interface Sent {
  key: string;
  points: MetricPointInput[];
}

/** A RunsApi double that records what the run sends; `fail` decides per call whether to throw. */
function fakeRuns(fail: (call: number, sent: Sent) => Error | null = () => null) {
  const sent: Sent[] = [];
  const calls: string[] = [];
  let n = 0;
  const runs = {
    async logMetrics(runId: string, points: readonly MetricPointInput[], opts?: { idempotencyKey?: string }): Promise<IngestResult> {
      const s = { key: opts!.idempotencyKey!, points: [...points] };
      const err = fail(n++, s);
      if (err) throw err;
      sent.push(s);
      return { runId, accepted: points.length, position: n, replayed: false };
    },
    async logParams() {
      calls.push('logParams');
    },
    async setTags() {
      calls.push('setTags');
    },
    async finish(runId: string, status: string) {
      calls.push(`finish:${status}`);
      return { id: runId, status };
    },
  };
  return { runs: runs as unknown as RunsApi, sent, calls };
}

const run = (runs: RunsApi, opts: ConstructorParameters<typeof ActiveRun>[2] = {}) =>
  new ActiveRun({ id: 'r1', experimentId: 'e1' }, runs, { flushIntervalMs: 10_000, now: () => 1000, ...opts });

const unavailable = () => new ChronicleApiError('down for maintenance', { code: 'INTERNAL_SERVER_ERROR', status: 503 });
const refused = () => new ChronicleApiError('run r1 is deleted', { code: 'FAILED_PRECONDITION', status: 422 });

describe('ActiveRun', () => {
  it('sends a full batch at once, without waiting for the interval', async () => {
    const f = fakeRuns();
    const r = run(f.runs, { maxBatchPoints: 3 });
    for (let i = 0; i < 7; i++) r.logMetric('loss', i, i);
    await expect.poll(() => f.sent.length).toBe(2);
    expect(f.sent.map((s) => s.points.length)).toEqual([3, 3]);
    expect(r.pendingPoints).toBe(1);
    await r.flush();
    expect(f.sent.flatMap((s) => s.points.map((p) => p.value))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(new Set(f.sent.map((s) => s.key)).size).toBe(3);
  });

  it('flushes on the interval', async () => {
    const f = fakeRuns();
    const r = run(f.runs, { flushIntervalMs: 5 });
    r.logMetrics({ loss: 0.5, acc: Number.NaN }, 2);
    await expect.poll(() => f.sent.length).toBe(1);
    expect(f.sent[0]!.points).toEqual([
      { key: 'loss', value: 0.5, step: 2, timestamp: 1000 },
      { key: 'acc', value: Number.NaN, step: 2, timestamp: 1000 },
    ]);
  });

  it('resends a batch that failed in transit with the same idempotency key', async () => {
    const keys: string[] = [];
    const f = fakeRuns((call, s) => {
      keys.push(s.key);
      return call === 0 ? new ChronicleNetworkError('connection reset', { url: 'x' }) : null;
    });
    const r = run(f.runs);
    r.logMetric('loss', 1, 0);
    await expect(r.flush()).rejects.toBeInstanceOf(ChronicleNetworkError);
    expect(r.pendingPoints).toBe(1);
    await r.flush();
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(f.sent).toHaveLength(1);
  });

  it('reports a background failure once, on the next call, and to onFlushError', async () => {
    const seen: unknown[] = [];
    const f = fakeRuns((call) => (call === 0 ? refused() : null));
    const r = run(f.runs, { flushIntervalMs: 5, onFlushError: (e) => seen.push(e) });
    r.logMetric('loss', 1, 0);
    await expect.poll(() => seen.length).toBe(1);
    expect(() => r.logMetric('loss', 2, 1)).toThrow(expect.objectContaining({ code: 'FAILED_PRECONDITION' }));
    // The refused batch is dropped, not retried forever; the run keeps working.
    r.logMetric('loss', 3, 2);
    await r.flush();
    expect(f.sent.flatMap((s) => s.points.map((p) => p.step))).toEqual([2]);
  });

  it('makes flush and finish throw when points were refused in the background', async () => {
    const f = fakeRuns((call) => (call === 0 ? refused() : null));
    const r = run(f.runs, { maxBatchPoints: 1 });
    r.logMetric('loss', 1, 0);
    await expect.poll(() => r.pendingPoints).toBe(0);
    await expect(r.finish()).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(f.calls).toEqual([]);
    // Reported; a second finish goes through.
    await r.finish('FAILED');
    expect(f.calls).toEqual(['finish:FAILED']);
  });

  it('does not report a background failure that a later retry recovered from', async () => {
    const seen: unknown[] = [];
    const f = fakeRuns((call) => (call === 0 ? unavailable() : null));
    const r = run(f.runs, { flushIntervalMs: 5, onFlushError: (e) => seen.push(e) });
    r.logMetric('loss', 1, 0);
    await expect.poll(() => f.sent.length).toBe(1);
    expect(seen).toHaveLength(1);
    expect(() => r.logMetric('loss', 2, 1)).not.toThrow();
  });

  it('flushes before finishing and refuses to log afterwards', async () => {
    const f = fakeRuns();
    const r = run(f.runs);
    r.logMetric('loss', 1, 0);
    await r.finish();
    expect(f.sent).toHaveLength(1);
    expect(f.calls).toEqual(['finish:FINISHED']);
    expect(r.finished).toBe(true);
    expect(() => r.logMetric('loss', 2, 1)).toThrow(/finished/);
    await expect(r.logParams({ a: 1 })).rejects.toThrow(/finished/);
    await expect(r.finish()).rejects.toThrow(/already finished/);
  });

  it('keeps the run open when finishing fails', async () => {
    const f = fakeRuns(() => unavailable());
    const r = run(f.runs);
    r.logMetric('loss', 1, 0);
    await expect(r.finish()).rejects.toMatchObject({ status: 503 });
    expect(r.finished).toBe(false);
    expect(() => r.logMetric('loss', 2, 1)).not.toThrow();
  });

  it('rejects bad points before they can spoil a batch', () => {
    const r = run(fakeRuns().runs);
    expect(() => r.logMetric('', 1)).toThrow(TypeError);
    expect(() => r.logMetric('a..b', 1)).toThrow(TypeError);
    expect(() => r.logMetric('loss', '1' as unknown as number)).toThrow(TypeError);
    expect(() => r.logMetric('loss', 1, 1.5)).toThrow(TypeError);
    expect(() => r.logMetrics({ ok: 1, 'bad!': 2 })).toThrow(TypeError);
    expect(r.pendingPoints).toBe(0);
  });
});
