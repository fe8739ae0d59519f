import type { MetricComparison } from '@chronicle/audit';
import { formatValue, table } from '../output.js';

const diff = (n: number | null) => (n === null ? '-' : n === 0 ? '0' : n.toExponential(2));

/** Per metric: original and reproduced latest values, their differences, ✓ or ✗. */
export function renderComparison(rows: readonly MetricComparison[]): string {
  if (rows.length === 0) return 'no metrics to compare: neither run logged any\n';
  return table(
    ['METRIC', 'ORIGINAL', 'REPRODUCED', 'ABS DIFF', 'REL DIFF', ''],
    rows.map((r) => [
      r.key,
      r.original === null ? '(missing)' : formatValue(r.original),
      r.reproduced === null ? '(missing)' : formatValue(r.reproduced),
      diff(r.absDiff),
      diff(r.relDiff),
      r.equal ? '✓' : '✗',
    ]),
  );
}
