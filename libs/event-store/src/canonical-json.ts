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

/**
 * What JSON.parse(canonicalJson(value)) gives, without the round trip: object keys sorted,
 * undefined members dropped, -0 as 0. The events an append hands back must equal those read
 * from the log later, or a read model built from one differs from a rebuild from the other
 * (the audit log keeps data as JSON text, whose key order shows). Parts already in that form
 * are reused, not copied: a metric batch's long arrays of numbers usually are.
 */
export function canonicalValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object') return Object.is(value, -0) ? 0 : value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const c = canonicalValue(v);
      if (copy === null && !Object.is(c, v)) copy = value.slice(0, i);
      copy?.push(c);
    }
    return copy ?? value;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  const kept = keys.filter((k) => obj[k] !== undefined).sort();
  let same = kept.length === keys.length && kept.every((k, i) => k === keys[i]);
  const values = kept.map((k) => {
    const c = canonicalValue(obj[k]);
    if (!Object.is(c, obj[k])) same = false;
    return c;
  });
  if (same) return obj;
  const out: Record<string, unknown> = {};
  kept.forEach((k, i) => (out[k] = values[i]));
  return out;
}
