/** JSON has no NaN or infinities; on the wire they are these strings (the MetricValue scalar). */
export type WireMetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

export function encodeMetricValue(v: number): WireMetricValue {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

export function decodeMetricValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(v);
}
