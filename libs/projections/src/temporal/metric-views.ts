import type { SqliteDatabase } from '@chronicle/event-store';
import { asF64 } from '../metrics/float64.js';
import { CHUNK_POINTS } from '../metrics/projection.js';
import { aggregateBatch, bucketSize, TIER_LEVELS } from '../metrics/tiers.js';

const AS_OF = 'chronicle_as_of()';

/** The newest rm_metric_history row of (s.run_id, s.key) at or before the position asked about. */
const HISTORY_AT = `main.rm_metric_history h ON h.run_id = s.run_id AND h.key = s.key AND h.position =
  (SELECT max(x.position) FROM main.rm_metric_history x WHERE x.run_id = s.run_id AND x.key = s.key AND x.position <= ${AS_OF})`;

/** Points of the level-`level` bucket that is still filling at the position asked about. */
const TIER_COLUMNS = ['count', 'first_step', 'first_value', 'last_step', 'last_value', 'min_step', 'min_value', 'max_step', 'max_value'] as const;

/**
 * As-of views of the tables the runs and metrics projections write once per batch: their
 * series summaries come from rm_metric_history, chunks are cut at the summary's point count,
 * and downsampling tiers keep the buckets that were already full at that position (a bucket
 * never changes once full) plus the one still filling, recomputed from its raw points.
 */
export const METRIC_VIEWS: Readonly<Record<string, string>> = {
  rm_metric_series: `SELECT s.run_id, s.key, h.count, h.chunks, h.min_step, h.max_step, h.monotonic
    FROM main.rm_metric_series s JOIN ${HISTORY_AT}`,
  rm_run_metrics: `SELECT s.run_id, s.key, h.value, h.is_nan, h.step, h.timestamp, h.count
    FROM main.rm_run_metrics s JOIN ${HISTORY_AT}`,
  // The newest chunk grew after the position asked about: its points beyond the count are cut.
  rm_metric_chunks: `SELECT c.run_id, c.key, c.seq, c.first_index, min(c.count, s.count - c.first_index) AS count,
      substr(c.steps, 1, 8 * (s.count - c.first_index)) AS steps, substr(c.vals, 1, 8 * (s.count - c.first_index)) AS vals,
      substr(c.timestamps, 1, 8 * (s.count - c.first_index)) AS timestamps
    FROM main.rm_metric_chunks c JOIN temp.rm_metric_series s ON s.run_id = c.run_id AND s.key = c.key
    WHERE c.first_index < s.count`,
  rm_metric_tiers: `SELECT t.run_id, t.key, t.level, t.bucket, ${TIER_COLUMNS.map((c) => `t.${c}`).join(', ')}
      FROM main.rm_metric_tiers t
      JOIN temp.rm_metric_series s ON s.run_id = t.run_id AND s.key = t.key
      JOIN temp.chronicle_tier_levels l ON l.level = t.level
      WHERE (t.bucket + 1) * l.size <= s.count
    UNION ALL
    SELECT run_id, key, level, bucket, ${TIER_COLUMNS.map((c, i) => (c.endsWith('_value') ? `chronicle_f64_at(agg, ${i}) AS ${c}` : `CAST(chronicle_f64_at(agg, ${i}) AS INTEGER) AS ${c}`)).join(', ')}
      FROM (
        SELECT s.run_id, s.key, l.level, s.count / l.size AS bucket,
          chronicle_partial_bucket(l.level, s.count / l.size * l.size, s.count, c.first_index, c.steps, c.vals, c.timestamps) AS agg
        FROM temp.rm_metric_series s
        JOIN temp.chronicle_tier_levels l
        JOIN main.rm_metric_chunks c ON c.run_id = s.run_id AND c.key = s.key
          -- the chunks holding the filling bucket's points, [bucket start, count)
          AND c.seq >= s.count / l.size * l.size / ${CHUNK_POINTS} AND c.first_index < s.count
        WHERE s.count % l.size != 0
        GROUP BY s.run_id, s.key, l.level
      )`,
};

interface Pending {
  level: number;
  from: number;
  to: number;
  parts: { first: number; steps: Float64Array; values: Float64Array; timestamps: Float64Array }[];
}

/** The SQL functions and the level table the metric views need, on the as-of connection. */
export function registerMetricViewSupport(db: SqliteDatabase): void {
  db.exec('CREATE TEMP TABLE IF NOT EXISTS chronicle_tier_levels (level INTEGER PRIMARY KEY, size INTEGER NOT NULL)');
  const insert = db.prepare('INSERT OR REPLACE INTO temp.chronicle_tier_levels (level, size) VALUES (?, ?)');
  for (let l = 1; l <= TIER_LEVELS; l++) insert.run(l, bucketSize(l));

  // The bucket aggregate over points [from, to) gathered from the chunks that hold them,
  // computed by the very code the projection uses, packed as float64s (NaN for NULL).
  // better-sqlite3 takes the SQL arity from step's declared parameters; its typings assume one.
  const step = (acc: Pending | null, level: number, from: number, to: number, first: number, steps: Buffer, vals: Buffer, timestamps: Buffer) => {
    const p = acc ?? { level, from, to, parts: [] };
    p.parts.push({ first, steps: asF64(steps), values: asF64(vals), timestamps: asF64(timestamps) });
    return p;
  };
  db.aggregate('chronicle_partial_bucket', {
    start: (): Pending | null => null,
    step: step as unknown as (acc: Pending | null, next: Pending | null) => Pending,
    result: (acc: Pending | null) => {
      if (!acc) return null;
      const n = acc.to - acc.from;
      const steps = new Float64Array(n);
      const values = new Float64Array(n);
      const timestamps = new Float64Array(n);
      for (const part of acc.parts)
        for (let i = 0; i < part.steps.length; i++) {
          const at = part.first + i - acc.from;
          if (at < 0 || at >= n) continue;
          steps[at] = part.steps[i]!;
          values[at] = part.values[i]!;
          timestamps[at] = part.timestamps[i]!;
        }
      const a = aggregateBatch(acc.from, steps, values, timestamps).find((b) => b.level === acc.level);
      if (!a) return null;
      const out = new Float64Array([
        a.count,
        a.first?.step ?? NaN,
        a.first?.value ?? NaN,
        a.last?.step ?? NaN,
        a.last?.value ?? NaN,
        a.min?.step ?? NaN,
        a.min?.value ?? NaN,
        a.max?.step ?? NaN,
        a.max?.value ?? NaN,
      ]);
      return Buffer.from(out.buffer);
    },
  });
  db.function('chronicle_f64_at', { deterministic: true }, (blob: Buffer | null, i: number) => {
    if (blob === null) return null;
    const v = blob.readDoubleLE(i * 8);
    return Number.isNaN(v) ? null : v;
  });
}
