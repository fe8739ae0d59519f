import type { KeyValue, KeyValuesInput } from './types.js';

/** `{ lr: 0.1 }` or `[{ key: 'lr', value: '0.1' }]` → `[{ key: 'lr', value: '0.1' }]`; undefined values are skipped. */
export function toKeyValues(input: KeyValuesInput | undefined): KeyValue[] {
  if (input === undefined) return [];
  if (Array.isArray(input)) return (input as readonly KeyValue[]).map((kv) => ({ key: kv.key, value: stringify(kv.value) }));
  return Object.entries(input)
    .filter(([, v]) => v !== undefined)
    .map(([key, v]) => ({ key, value: stringify(v) }));
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
