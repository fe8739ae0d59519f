import { describe, expect, it } from 'vitest';
import { compareMetrics } from './metric-diff.js';

describe('comparing metrics of a run and its reproduction', () => {
  it('agrees on equal values, NaN with NaN, and the same infinity', () => {
    const r = compareMetrics(
      [{ key: 'acc', value: 0.9 }, { key: 'nan', value: Number.NaN }, { key: 'inf', value: Infinity }],
      [{ key: 'acc', value: 0.9 }, { key: 'nan', value: Number.NaN }, { key: 'inf', value: Infinity }],
    );
    expect(r.allEqual).toBe(true);
    expect(r.rows.map((x) => [x.key, x.absDiff, x.relDiff])).toEqual([['acc', 0, 0], ['inf', 0, 0], ['nan', 0, 0]]);
  });
  it('reports differences beyond the tolerance, with absolute and relative size', () => {
    const r = compareMetrics([{ key: 'loss', value: 0.5 }], [{ key: 'loss', value: 0.4 }], { relative: 0.1, absolute: 0 });
    expect(r.allEqual).toBe(false);
    expect(r.rows[0]).toMatchObject({ original: 0.5, reproduced: 0.4, equal: false });
    expect(r.rows[0]!.absDiff).toBeCloseTo(0.1);
    expect(r.rows[0]!.relDiff).toBeCloseTo(0.2);
    expect(compareMetrics([{ key: 'loss', value: 0.5 }], [{ key: 'loss', value: 0.4 }], { relative: 0.25, absolute: 0 }).allEqual).toBe(true);
    expect(compareMetrics([{ key: 'x', value: 0 }], [{ key: 'x', value: 1e-12 }], { relative: 0, absolute: 1e-9 }).allEqual).toBe(true);
  });
  it('never agrees on a metric only one run has, on NaN against a number, or on nothing at all', () => {
    const r = compareMetrics([{ key: 'a', value: 1 }], [{ key: 'b', value: 1 }]);
    expect(r.rows).toEqual([
      { key: 'a', original: 1, reproduced: null, absDiff: null, relDiff: null, equal: false },
      { key: 'b', original: null, reproduced: 1, absDiff: null, relDiff: null, equal: false },
    ]);
    expect(compareMetrics([{ key: 'a', value: Number.NaN }], [{ key: 'a', value: 1 }]).allEqual).toBe(false);
    expect(compareMetrics([{ key: 'a', value: Infinity }], [{ key: 'a', value: -Infinity }]).allEqual).toBe(false);
    expect(compareMetrics([], []).allEqual).toBe(false);
  });
  it('refuses a negative tolerance', () => expect(() => compareMetrics([], [], { relative: -1, absolute: 0 })).toThrow(RangeError));
});
