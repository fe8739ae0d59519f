import { describe, expect, it } from 'vitest';
import { asciiChart } from './chart.js';

describe('asciiChart', () => {
  it('draws a rising series from the bottom-left to the top-right, with min and max labels', () => {
    const lines = asciiChart(
      Array.from({ length: 5 }, (_, i) => ({ step: i * 10, value: i })),
      { height: 5 },
    ).split('\n');
    expect(lines.slice(0, 5)).toEqual(['4 |    *', '  |   * ', '  |  *  ', '  | *   ', '0 |*    ']);
    expect(lines[5]).toBe('  +-----');
    expect(lines[6]).toContain('step 0');
    expect(lines[6]).toContain('step 40');
  });

  it('skips NaN and infinities, and says so when nothing is left', () => {
    expect(asciiChart([{ step: 0, value: Number.NaN }])).toBe('(no finite points to draw)\n');
    expect(asciiChart([{ step: 0, value: 1 }, { step: 1, value: Number.POSITIVE_INFINITY }], { height: 2 })).toContain('1 |*');
  });
});
