import { describe, expect, it } from 'vitest';
import { metricsKey } from './idempotency.js';
import { spreadIndices } from './metrics.js';

describe('spreading points for charts', () => {
  it('keeps everything when it fits', () => expect(spreadIndices(3, 5)).toEqual([0, 1, 2]));
  it('keeps the first and last and spreads the rest evenly', () => {
    expect(spreadIndices(101, 5)).toEqual([0, 25, 50, 75, 100]);
    expect(spreadIndices(10, 1)).toEqual([9]);
  });
});

describe('content keys of metric points', () => {
  const p = (value: number, step = 0) => ({ key: 'm', value, timestamp: 1, step });
  it('is the same for the same points of the same run', () => expect(metricsKey('r', [p(1)])).toBe(metricsKey('r', [p(1)])));
  it('tells apart runs, values, steps and the non-finite values', () => {
    const keys = [metricsKey('r', [p(1)]), metricsKey('s', [p(1)]), metricsKey('r', [p(2)]), metricsKey('r', [p(1, 1)]),
      metricsKey('r', [p(Number.NaN)]), metricsKey('r', [p(Number.POSITIVE_INFINITY)]), metricsKey('r', [p(Number.NEGATIVE_INFINITY)])];
    expect(new Set(keys).size).toBe(keys.length);
  });
  it('tells a missing timestamp from timestamp 0', () =>
    expect(metricsKey('r', [{ key: 'm', value: 1 }])).not.toBe(metricsKey('r', [{ key: 'm', value: 1, timestamp: 0, step: 0 }])));
});
