/**
 * JSON has no NaN or infinities, yet training code logs them and users want them kept.
 * In events they travel as these three strings; everywhere else they are plain numbers.
 */
export type JsonMetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

export function encodeMetricValue(v: number): JsonMetricValue {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

export function decodeMetricValue(v: JsonMetricValue | string | number): number {
  if (typeof v === 'number') return v;
  switch (v) {
    case 'NaN':
      return Number.NaN;
    case 'Infinity':
      return Number.POSITIVE_INFINITY;
    case '-Infinity':
      return Number.NEGATIVE_INFINITY;
    default:
      return Number(v);
  }
}

/** Parses a value from a client: a number, or one of the special strings. Returns undefined if invalid. */
export function parseMetricValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === 'NaN' || v === 'nan') return Number.NaN;
  if (v === 'Infinity' || v === 'inf' || v === '+Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity' || v === '-inf') return Number.NEGATIVE_INFINITY;
  return undefined;
}
