import { expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

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
