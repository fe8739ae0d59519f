import { formatValue } from './output.js';

/**
 * A plain-ASCII line chart of a series, `height` rows tall. Each column covers a slice of
 * the points and is drawn from its lowest to its highest value, so spikes stay visible.
 */
export function asciiChart(points: readonly { step: number; value: number }[], opts: { width?: number; height?: number } = {}): string {
  const finite = points.filter((p) => Number.isFinite(p.value));
  if (finite.length === 0) return '(no finite points to draw)\n';
  const height = Math.max(2, opts.height ?? 10);
  const width = Math.max(1, Math.min(opts.width ?? 72, finite.length));
  let min = Infinity;
  let max = -Infinity;
  for (const p of finite) {
    if (p.value < min) min = p.value;
    if (p.value > max) max = p.value;
  }
  const span = max - min || 1;
  const rowOf = (v: number) => Math.round(((v - min) / span) * (height - 1));
  const grid = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  for (let col = 0; col < width; col++) {
    const from = Math.floor((col * finite.length) / width);
    const to = Math.max(from + 1, Math.floor(((col + 1) * finite.length) / width));
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = from; i < to; i++) {
      const r = rowOf(finite[i]!.value);
      lo = Math.min(lo, r);
      hi = Math.max(hi, r);
    }
    for (let r = lo; r <= hi; r++) grid[height - 1 - r]![col] = '*';
  }
  const top = formatValue(max);
  const bottom = formatValue(min);
  const labelWidth = Math.max(top.length, bottom.length);
  const lines = grid.map((row, i) => {
    const label = i === 0 ? top : i === height - 1 ? bottom : '';
    return `${label.padStart(labelWidth)} |${row.join('')}`;
  });
  const first = `step ${finite[0]!.step}`;
  const last = `step ${finite[finite.length - 1]!.step}`;
  const axis = `${' '.repeat(labelWidth)} +${'-'.repeat(width)}`;
  const gap = Math.max(2, width - first.length - last.length);
  const steps = `${' '.repeat(labelWidth + 2)}${first}${' '.repeat(gap)}${last}`;
  return [...lines, axis, steps].join('\n') + '\n';
}
