export interface MetricValue {
  key: string;
  value: number;
}

export interface Tolerance {
  /** Allowed |a − b| relative to the larger magnitude. */
  relative: number;
  /** Allowed |a − b| outright, for values near zero. */
  absolute: number;
}

export interface MetricComparison {
  key: string;
  /** null: the run has no such metric. */
  original: number | null;
  reproduced: number | null;
  absDiff: number | null;
  /** |a − b| / max(|a|, |b|); 0 when both are 0. */
  relDiff: number | null;
  equal: boolean;
}

export const DEFAULT_TOLERANCE: Tolerance = { relative: 1e-9, absolute: 0 };

function same(a: number, b: number, t: Tolerance): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  const d = Math.abs(a - b);
  return d <= t.absolute || d <= t.relative * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Every metric of either run, by key: the original's and the reproduction's latest values,
 * their differences, and whether they agree within the tolerance. A metric only one run has
 * never agrees: a reproduction must log what the original logged.
 */
export function compareMetrics(original: readonly MetricValue[], reproduced: readonly MetricValue[], tolerance: Tolerance = DEFAULT_TOLERANCE) {
  if (!(tolerance.relative >= 0) || !(tolerance.absolute >= 0)) throw new RangeError('tolerances must be 0 or more');
  const a = new Map(original.map((m) => [m.key, m.value]));
  const b = new Map(reproduced.map((m) => [m.key, m.value]));
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const rows: MetricComparison[] = keys.map((key) => {
    const x = a.get(key) ?? null;
    const y = b.get(key) ?? null;
    if (x === null || y === null) return { key, original: x, reproduced: y, absDiff: null, relDiff: null, equal: false };
    const finite = Number.isFinite(x) && Number.isFinite(y);
    const absDiff = finite ? Math.abs(x - y) : same(x, y, tolerance) ? 0 : null;
    const scale = finite ? Math.max(Math.abs(x), Math.abs(y)) : 0;
    const relDiff = absDiff === null ? null : scale === 0 ? 0 : absDiff / scale;
    return { key, original: x, reproduced: y, absDiff, relDiff, equal: same(x, y, tolerance) };
  });
  return { rows, allEqual: rows.length > 0 && rows.every((r) => r.equal) };
}
