import { ValidationFailed } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';
import { decodePage, toPage, type Page, type PageArgs } from '../pagination.js';
import { lttb } from './downsample.js';
import { asF64 } from './float64.js';
import { bucketSize, TIER_LEVELS } from './tiers.js';

export interface MetricPointView {
  step: number;
  value: number;
  timestamp: number;
}

export interface MetricSeriesView {
  key: string;
  /** Points stored for the key, drawable or not. */
  totalPoints: number;
  /** The resolution the points came from: 0 for raw points, else the tier level. */
  level: number;
  points: ChartPoint[];
}

export interface ChartPoint {
  step: number;
  value: number;
}

export const MAX_SERIES_POINTS = 10_000;
/** Up to this many points, reading the raw points is cheap (a few milliseconds) and exact. */
const RAW_LIMIT = 50_000;

interface ChunkRow {
  steps: Buffer;
  vals: Buffer;
  timestamps: Buffer;
}


export function metricQueries(db: SqliteDatabase) {
  const seriesRow = db.prepare<[string, string], { count: number; monotonic: number }>(
    'SELECT count, monotonic FROM rm_metric_series WHERE run_id = ? AND key = ?',
  );
  const chunks = db.prepare<[string, string], ChunkRow>(
    'SELECT steps, vals, timestamps FROM rm_metric_chunks WHERE run_id = ? AND key = ? ORDER BY seq',
  );
  const tier = db.prepare<
    [string, string, number],
    {
      first_step: number | null;
      first_value: number | null;
      last_step: number | null;
      last_value: number | null;
      min_step: number | null;
      min_value: number | null;
      max_step: number | null;
      max_value: number | null;
    }
  >(
    'SELECT first_step, first_value, last_step, last_value, min_step, min_value, max_step, max_value FROM rm_metric_tiers WHERE run_id = ? AND key = ? AND level = ? ORDER BY bucket',
  );
  const keys = db.prepare<[string], { key: string }>('SELECT key FROM rm_metric_series WHERE run_id = ? ORDER BY key');

  /** Every point of a key, ordered by step (then arrival). */
  function allPoints(runId: string, key: string): { steps: Float64Array; values: Float64Array; timestamps: Float64Array } {
    const meta = seriesRow.get(runId, key);
    const n = meta?.count ?? 0;
    const steps = new Float64Array(n);
    const values = new Float64Array(n);
    const timestamps = new Float64Array(n);
    let at = 0;
    for (const c of chunks.iterate(runId, key)) {
      steps.set(asF64(c.steps), at);
      values.set(asF64(c.vals), at);
      timestamps.set(asF64(c.timestamps), at);
      at += c.steps.byteLength / 8;
    }
    if (meta?.monotonic === 1) return { steps, values, timestamps };
    // Out-of-order steps: a stable sort by step keeps arrival order among equal steps.
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => steps[a]! - steps[b]! || a - b);
    return {
      steps: Float64Array.from(order, (i) => steps[i]!),
      values: Float64Array.from(order, (i) => values[i]!),
      timestamps: Float64Array.from(order, (i) => timestamps[i]!),
    };
  }

  function fromTier(runId: string, key: string, level: number): ChartPoint[] {
    const out: ChartPoint[] = [];
    const push = (step: number | null, value: number | null) => {
      if (step !== null && value !== null) out.push({ step, value });
    };
    const rows = tier.all(runId, key, level);
    rows.forEach((r, i) => {
      if (i === 0) push(r.first_step, r.first_value);
      // Min and max in the order they were reached, so the line draws the bucket's swing.
      if (r.min_step !== null && r.max_step !== null && r.min_step > r.max_step) {
        push(r.max_step, r.max_value);
        push(r.min_step, r.min_value);
      } else {
        push(r.min_step, r.min_value);
        push(r.max_step, r.max_value);
      }
      if (i === rows.length - 1) push(r.last_step, r.last_value);
    });
    out.sort((a, b) => a.step - b.step);
    // A bucket's first point is often its minimum or maximum too: keep it once.
    return out.filter((p, i) => i === 0 || p.step !== out[i - 1]!.step || p.value !== out[i - 1]!.value);
  }

  return {
    keys: (runId: string) => keys.all(runId).map((k) => k.key),
    history(runId: string, key: string, page: PageArgs = {}): Page<MetricPointView> & { totalCount: number } {
      const scope = `history:${runId}:${key}`;
      const { offset, limit } = decodePage(scope, page, 100_000);
      const all = allPoints(runId, key);
      const end = Math.min(offset + limit + 1, all.steps.length);
      const rows: MetricPointView[] = [];
      for (let i = offset; i < end; i++)
        rows.push({ step: all.steps[i]!, value: all.values[i]!, timestamp: all.timestamps[i]! });
      return { ...toPage(scope, rows, offset, limit), totalCount: all.steps.length };
    },
    /**
     * A chart-ready series of at most `maxPoints` finite points, first and last kept:
     * LTTB over the raw points when there are few, over the min/max of the finest tier
     * that is small enough otherwise.
     */
    series(runId: string, key: string, maxPoints: number): MetricSeriesView {
      if (!Number.isInteger(maxPoints) || maxPoints < 2 || maxPoints > MAX_SERIES_POINTS)
        throw new ValidationFailed(`maxPoints must be an integer between 2 and ${MAX_SERIES_POINTS}`, { field: 'maxPoints' });
      const total = seriesRow.get(runId, key)?.count ?? 0;
      let level = 0;
      if (total > Math.max(RAW_LIMIT, maxPoints * 4)) {
        // The finest tier with at most 2·maxPoints buckets: levels are 4x apart, so it has
        // more than maxPoints/2 buckets, whose min and max give LTTB at least maxPoints points.
        level = TIER_LEVELS;
        for (let l = 1; l <= TIER_LEVELS; l++)
          if (Math.ceil(total / bucketSize(l)) <= 2 * maxPoints) {
            level = l;
            break;
          }
      }
      let points: ChartPoint[];
      if (level === 0) {
        const all = allPoints(runId, key);
        points = [];
        for (let i = 0; i < all.steps.length; i++)
          if (Number.isFinite(all.values[i]!))
            points.push({ step: all.steps[i]!, value: all.values[i]! });
      } else {
        points = fromTier(runId, key, level);
      }
      const kept = lttb(
        points.map((p) => p.step),
        points.map((p) => p.value),
        maxPoints,
      );
      return { key, totalPoints: total, level, points: kept.map((i) => points[i]!) };
    },
  };
}
