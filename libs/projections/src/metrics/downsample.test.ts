import { describe, expect, it } from 'vitest';
import { lttb } from './downsample.js';
import { aggregateBatch, bucketSize, mergeInto, TIER_LEVELS } from './tiers.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('lttb', () => {
  it('keeps everything when asked for more points than there are', () =>
    expect(lttb([1, 2, 3], [1, 2, 3], 10)).toEqual([0, 1, 2]));
  it('never returns more than asked and keeps first and last', () => {
    const xs = range(10_000);
    const ys = xs.map((x) => Math.sin(x / 50));
    for (const t of [2, 3, 7, 100, 999]) {
      const kept = lttb(xs, ys, t);
      expect(kept.length).toBe(t);
      expect(kept[0]).toBe(0);
      expect(kept[kept.length - 1]).toBe(9_999);
      expect([...kept].sort((a, b) => a - b)).toEqual(kept);
    }
  });
  it('keeps a lone spike that averaging would flatten', () => {
    const xs = range(1_000);
    const ys = xs.map((x) => (x === 500 ? 100 : 0));
    expect(lttb(xs, ys, 20)).toContain(500);
  });
});

describe('tiers', () => {
  it('nests buckets four to one and counts every point', () => {
    const n = 5_000;
    const xs = range(n);
    const aggs = aggregateBatch(0, xs, xs.map((x) => Math.cos(x)), xs);
    for (let l = 1; l <= TIER_LEVELS; l++) {
      const level = aggs.filter((a) => a.level === l);
      expect(level.reduce((s, a) => s + a.count, 0)).toBe(n);
      expect(level.length).toBe(Math.ceil(n / bucketSize(l)));
    }
  });
  it('gives the same buckets whether points arrive at once or in pieces', () => {
    const n = 1_000;
    const xs = range(n);
    const ys = xs.map((x) => Math.sin(x / 7) * x);
    const whole = aggregateBatch(0, xs, ys, xs).filter((a) => a.level === 2);
    const a = aggregateBatch(0, xs.slice(0, 333), ys.slice(0, 333), xs.slice(0, 333)).filter((x) => x.level === 2);
    const b = aggregateBatch(333, xs.slice(333), ys.slice(333), xs.slice(333)).filter((x) => x.level === 2);
    mergeInto(a[a.length - 1]!, b[0]!);
    expect([...a, ...b.slice(1)]).toEqual(whole);
  });
  it('ignores NaN and infinities for min, max, first and last, yet counts them', () => {
    const [agg] = aggregateBatch(0, [0, 1, 2, 3], [Number.NaN, 5, Number.POSITIVE_INFINITY, -1], [0, 0, 0, 0]);
    expect(agg).toMatchObject({ count: 4, first: { step: 1 }, last: { step: 3 }, min: { value: -1 }, max: { value: 5 } });
  });
});

describe('metricSeries resolution', async () => {
  const { createSqliteEventStore } = await import('@chronicle/event-store');
  const { allProjections, createReadModels } = await import('../read-models.js');
  const { ProjectionRunner } = await import('../runner/projection-runner.js');

  async function seriesOf(n: number, maxPoints: number) {
    const store = createSqliteEventStore({ path: ':memory:' });
    const runner = new ProjectionRunner({ store, db: store.db, projections: allProjections });
    const steps = range(n);
    await store.append(
      [{ stream: 'run-r', expectedRevision: 'any', events: [{ type: 'RunMetricsLogged', data: { runId: 'r', series: [{ key: 'k', steps, values: steps.map((s) => Math.sin(s / 97)), timestamps: steps } ] } }] }],
      { actor: 'user:t' },
    );
    await runner.catchUp();
    return createReadModels(store.db).metrics.series('r', 'k', maxPoints);
  }

  it('draws small series from raw points, exactly maxPoints of them', async () => {
    const s = await seriesOf(1_000, 60);
    expect(s.level).toBe(0);
    expect(s.points).toHaveLength(60);
  });

  it('draws large series from a tier, never more than asked, and close to it', async () => {
    const s = await seriesOf(300_000, 1_000);
    expect(s.level).toBeGreaterThan(0);
    expect(s.points.length).toBeLessThanOrEqual(1_000);
    expect(s.points.length).toBeGreaterThan(900);
    expect(s.points[0]!.step).toBe(0);
    expect(s.points[s.points.length - 1]!.step).toBe(299_999);
    expect(new Set(s.points.map((p) => p.step)).size).toBe(s.points.length);
  });
});
