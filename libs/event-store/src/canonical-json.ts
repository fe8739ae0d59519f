/**
 * Canonical JSON (the shape of RFC 8785 for the values events hold): object keys sorted,
 * no whitespace, numbers and strings as ECMAScript's JSON.stringify writes them.
 * Hashes are taken over this form, so the same event always hashes the same way.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number in event data');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    // Fast path for the long arrays of numbers that metric batches carry.
    let primitive = true;
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if ((v !== null && typeof v === 'object') || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) {
        primitive = false;
        break;
      }
    }
    if (primitive) return JSON.stringify(value);
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}
