import { decodeMetricValue, type RecordedEvent, type RunEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';
import { aggregateBatch, type BucketAggregate } from './tiers.js';

/** Points per stored chunk: large enough to make rows cheap, small enough to page through. */
export const CHUNK_POINTS = 8192;

const f64 = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * Metric points, stored the way time-series stores do: per run and key, chunks of packed
 * float64 steps, values and timestamps (NaN and infinities survive as themselves), plus the
 * downsampled tiers that charts read.
 */
export const metricsProjection: ProjectionDefinition = {
  name: 'metrics.v1',
  tables: ['rm_metric_series', 'rm_metric_chunks', 'rm_metric_tiers'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_metric_series (
        run_id TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL, chunks INTEGER NOT NULL,
        min_step INTEGER, max_step INTEGER, monotonic INTEGER NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_metric_chunks (
        run_id TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, first_index INTEGER NOT NULL,
        count INTEGER NOT NULL, steps BLOB NOT NULL, vals BLOB NOT NULL, timestamps BLOB NOT NULL,
        PRIMARY KEY (run_id, key, seq)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_metric_tiers (
        run_id TEXT NOT NULL, key TEXT NOT NULL, level INTEGER NOT NULL, bucket INTEGER NOT NULL,
        count INTEGER NOT NULL,
        first_step INTEGER, first_value REAL, last_step INTEGER, last_value REAL,
        min_step INTEGER, min_value REAL, max_step INTEGER, max_value REAL,
        PRIMARY KEY (run_id, key, level, bucket)
      ) WITHOUT ROWID;`);

    const series = db.prepare<[string, string], { count: number; chunks: number; max_step: number | null; monotonic: number }>(
      'SELECT count, chunks, max_step, monotonic FROM rm_metric_series WHERE run_id = ? AND key = ?',
    );
    const upsertSeries = db.prepare(
      `INSERT INTO rm_metric_series (run_id, key, count, chunks, min_step, max_step, monotonic) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, key) DO UPDATE SET count = excluded.count, chunks = excluded.chunks,
         min_step = min(min_step, excluded.min_step), max_step = max(max_step, excluded.max_step), monotonic = excluded.monotonic`,
    );
    const insertChunk = db.prepare(
      'INSERT INTO rm_metric_chunks (run_id, key, seq, first_index, count, steps, vals, timestamps) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // Points of a batch all arrive after those already in a bucket: first stays, last moves.
    const upsertTier = db.prepare(
      `INSERT INTO rm_metric_tiers (run_id, key, level, bucket, count, first_step, first_value, last_step, last_value, min_step, min_value, max_step, max_value)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, key, level, bucket) DO UPDATE SET
         count = count + excluded.count,
         first_step = coalesce(first_step, excluded.first_step), first_value = coalesce(first_value, excluded.first_value),
         last_step = coalesce(excluded.last_step, last_step), last_value = coalesce(excluded.last_value, last_value),
         min_step = CASE WHEN excluded.min_value < min_value OR min_value IS NULL THEN excluded.min_step ELSE min_step END,
         min_value = CASE WHEN excluded.min_value < min_value OR min_value IS NULL THEN excluded.min_value ELSE min_value END,
         max_step = CASE WHEN excluded.max_value > max_value OR max_value IS NULL THEN excluded.max_step ELSE max_step END,
         max_value = CASE WHEN excluded.max_value > max_value OR max_value IS NULL THEN excluded.max_value ELSE max_value END`,
    );

    // One entry per (run, key) touched in the current batch: the series row as it will be once
    // the batch is written, and the batch's points for the tiers. Written and dropped by
    // flush(): nothing here outlives a batch.
    const pending = new Map<string, Map<string, PendingSeries>>();
    const clear = () => pending.clear();

    const seriesOf = (runId: string, key: string): PendingSeries => {
      let byKey = pending.get(runId);
      if (!byKey) pending.set(runId, (byKey = new Map()));
      let p = byKey.get(key);
      if (!p) {
        const prev = series.get(runId, key);
        p = {
          count: prev?.count ?? 0,
          chunks: prev?.chunks ?? 0,
          maxStep: prev ? prev.max_step : Number.NEGATIVE_INFINITY,
          monotonic: prev ? prev.monotonic === 1 : true,
          batchMin: Number.POSITIVE_INFINITY,
          batchMax: Number.NEGATIVE_INFINITY,
          segments: [],
          points: 0,
        };
        byKey.set(key, p);
      }
      return p;
    };

    const writeTier = (runId: string, key: string, a: BucketAggregate) =>
      upsertTier.run(
        runId,
        key,
        a.level,
        a.bucket,
        a.count,
        a.first?.step ?? null,
        a.first?.value ?? null,
        a.last?.step ?? null,
        a.last?.value ?? null,
        a.min?.step ?? null,
        a.min?.value ?? null,
        a.max?.step ?? null,
        a.max?.value ?? null,
      );

    return {
      apply(e: RecordedEvent) {
        const ev = e as unknown as RunEvent;
        if (ev.type !== 'RunMetricsLogged') return;
        const runId = ev.data.runId;
        for (const s of ev.data.series) {
          const n = s.steps.length;
          // Plain loops: Float64Array.from goes through the iterator protocol, slow for short series.
          // One backing store for the three columns: each typed array of more than a few
          // numbers is a separate native allocation, tracked and swept by the GC.
          const columns = new Float64Array(3 * n);
          const steps = columns.subarray(0, n);
          const values = columns.subarray(n, 2 * n);
          const timestamps = columns.subarray(2 * n);
          for (let i = 0; i < n; i++) {
            steps[i] = s.steps[i]!;
            values[i] = decodeMetricValue(s.values[i]!);
            timestamps[i] = s.timestamps[i]!;
          }

          const p = seriesOf(runId, s.key);
          const base = p.count;
          let monotonic = p.monotonic;
          let last = p.maxStep ?? Number.NEGATIVE_INFINITY;
          let min = Number.POSITIVE_INFINITY;
          let max = Number.NEGATIVE_INFINITY;
          for (let i = 0; i < n; i++) {
            const st = steps[i]!;
            if (st < last) monotonic = false;
            last = st;
            if (st < min) min = st;
            if (st > max) max = st;
          }
          for (let off = 0; off < n; off += CHUNK_POINTS) {
            const end = Math.min(off + CHUNK_POINTS, n);
            insertChunk.run(
              runId,
              s.key,
              p.chunks++,
              base + off,
              end - off,
              f64(steps.subarray(off, end)),
              f64(values.subarray(off, end)),
              f64(timestamps.subarray(off, end)),
            );
          }
          p.count = base + n;
          p.monotonic = monotonic;
          // What the row's max(max_step, excluded.max_step) would hold after this event.
          if (p.maxStep !== null && max > p.maxStep) p.maxStep = max;
          if (min < p.batchMin) p.batchMin = min;
          if (max > p.batchMax) p.batchMax = max;
          p.segments.push({ steps, values, timestamps });
          p.points += n;
        }
      },
      flush() {
        try {
          for (const [runId, byKey] of pending)
            for (const [key, p] of byKey) {
              // The upsert's min()/max() fold the batch's extremes into the stored ones, exactly
              // as they folded each event's before.
              upsertSeries.run(runId, key, p.count, p.chunks, p.batchMin, p.batchMax, p.monotonic ? 1 : 0);
              // The batch's points aggregated at once give the same buckets as each event's
              // aggregates merged in order (mergeInto), at a fraction of the objects.
              const [steps, values, timestamps] = concat(p.segments, p.points);
              for (const a of aggregateBatch(p.count - p.points, steps, values, timestamps)) writeTier(runId, key, a);
            }
        } finally {
          clear();
        }
      },
      discard: clear,
    };
  },
};

interface PendingSeries {
  count: number;
  chunks: number;
  /** As the row holds it; SQL's max() keeps a NULL, so this does too. */
  maxStep: number | null;
  monotonic: boolean;
  /** Smallest and greatest step of this batch's events for the series. */
  batchMin: number;
  batchMax: number;
  /** The batch's points in arrival order, aggregated into tiers by flush(). */
  segments: { steps: Float64Array; values: Float64Array; timestamps: Float64Array }[];
  points: number;
}

function concat(segments: PendingSeries['segments'], points: number): [Float64Array, Float64Array, Float64Array] {
  if (segments.length === 1) return [segments[0]!.steps, segments[0]!.values, segments[0]!.timestamps];
  const steps = new Float64Array(points);
  const values = new Float64Array(points);
  const timestamps = new Float64Array(points);
  let at = 0;
  for (const s of segments) {
    steps.set(s.steps, at);
    values.set(s.values, at);
    timestamps.set(s.timestamps, at);
    at += s.steps.length;
  }
  return [steps, values, timestamps];
}
