import { expect, it } from 'vitest';
import { canonicalJson, canonicalValue } from './canonical-json.js';

it('sorts keys at every depth and drops undefined members', () => {
  expect(canonicalJson({ b: 1, a: { d: [1, 'x', null], c: true }, u: undefined })).toBe(
    '{"a":{"c":true,"d":[1,"x",null]},"b":1}',
  );
});

it('writes numbers the way ECMAScript does', () => {
  expect(canonicalJson([1e21, 0.1, -0, 1.5e-7])).toBe('[1e+21,0.1,0,1.5e-7]');
});

it('refuses non-finite numbers, which JSON cannot carry', () => {
  expect(() => canonicalJson({ v: Number.NaN })).toThrow(/non-finite/);
  expect(() => canonicalJson([Number.POSITIVE_INFINITY, { a: 1 }])).toThrow(/non-finite/);
});

it('canonicalValue gives what parsing the canonical text gives, reusing what is already canonical', () => {
  const samples: unknown[] = [
    { runId: 'r', series: [{ key: 'loss', steps: [0, 1], values: [0.5, -0], timestamps: [1, 2] }] },
    { b: 1, a: { d: [1, 'x', null, undefined], c: true }, u: undefined, '10': 1, '9': [{ z: 1, y: 2 }] },
    [[], {}, 'é', -0, 0, 1e21],
    'text',
    -0,
  ];
  for (const s of samples) {
    const c = canonicalValue(s);
    // Key order included (JS puts integer-like keys first, parsed or built).
    expect(JSON.stringify(c)).toBe(JSON.stringify(JSON.parse(canonicalJson(s))));
    expect(c).toEqual(JSON.parse(canonicalJson(s)));
  }
  expect(Object.is((canonicalValue([-0]) as number[])[0], 0)).toBe(true);
  const done = { a: [1, 2, 3], b: { c: 'x' } };
  expect(canonicalValue(done)).toBe(done);
  const metrics = { key: 'loss', steps: [0, 1], timestamps: [1, 2], values: [0.5, 0.25] };
  const unsorted = { runId: 'r', series: [{ key: 'loss', steps: metrics.steps, values: metrics.values, timestamps: metrics.timestamps }] };
  const c = canonicalValue(unsorted) as { series: { steps: number[]; values: number[] }[] };
  expect(Object.keys(c.series[0]!)).toEqual(['key', 'steps', 'timestamps', 'values']);
  expect(c.series[0]!.steps).toBe(metrics.steps);
});
