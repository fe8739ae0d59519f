import { createSqliteEventStore } from '@chronicle/event-store';
import { describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../runner/projection-runner.js';
import { CHUNK_POINTS, metricsProjection } from './projection.js';
import { metricQueries } from './queries.js';

/** Point counts of the events logged to one series: they straddle chunk boundaries unevenly. */
const EVENT_SIZES = [1, 700, 400, CHUNK_POINTS, 3, CHUNK_POINTS * 2 + 5, 90];

async function projectedWith(batchSize: number) {
  const store = createSqliteEventStore({ path: ':memory:' });
  await store.append([{ stream: 'run-r1', expectedRevision: 'no_stream', events: [{ type: 'RunStarted', data: { runId: 'r1' } }] }], { actor: 'user:ada' });
  let next = 0;
  for (const [i, n] of EVENT_SIZES.entries()) {
    const steps = Array.from({ length: n }, () => next++);
    const series = [{ key: 'loss', steps, values: steps.map((s) => 1 / (s + 1)), timestamps: steps.map((s) => 1000 + s) }];
    await store.append([{ stream: 'run-r1', expectedRevision: i, events: [{ type: 'RunMetricsLogged', data: { runId: 'r1', series } }] }], { actor: 'user:ada' });
  }
  await new ProjectionRunner({ store, db: store.db, projections: [metricsProjection], batchSize, timeTravel: false }).catchUp();
  const chunks = store.db
    .prepare<[], { seq: number; first_index: number; count: number; steps: Buffer }>('SELECT seq, first_index, count, steps FROM rm_metric_chunks ORDER BY seq')
    .all();
  return { chunks, queries: metricQueries(store.db), total: next };
}

describe('metrics.v2 chunks', () => {
  it('cut a series at fixed point indexes, whatever the batching, and keep every point in order', async () => {
    const one = await projectedWith(1);
    const all = await projectedWith(1000);
    expect(all.chunks).toEqual(one.chunks);
    const whole = Math.floor(one.total / CHUNK_POINTS);
    expect(one.chunks.map((c) => [c.seq, c.first_index, c.count])).toEqual([
      ...Array.from({ length: whole }, (_, k) => [k, k * CHUNK_POINTS, CHUNK_POINTS]),
      [whole, whole * CHUNK_POINTS, one.total % CHUNK_POINTS],
    ]);
    const { nodes, totalCount } = one.queries.history('r1', 'loss', { first: one.total });
    expect(totalCount).toBe(one.total);
    expect(nodes.map((p) => p.step)).toEqual(Array.from({ length: one.total }, (_, i) => i));
    expect(nodes[one.total - 1]!.value).toBe(1 / one.total);
  });
});
