import { decodeMetricValue, type RecordedEvent, type RunEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';
import { aggregateBatch } from './tiers.js';

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

    return {
      apply(e: RecordedEvent) {
        const ev = e as unknown as RunEvent;
        if (ev.type !== 'RunMetricsLogged') return;
        const runId = ev.data.runId;
        for (const s of ev.data.series) {
          const n = s.steps.length;
          const steps = Float64Array.from(s.steps);
          const values = new Float64Array(n);
          for (let i = 0; i < n; i++) values[i] = decodeMetricValue(s.values[i]!);
          const timestamps = Float64Array.from(s.timestamps);

          const prev = series.get(runId, s.key);
          const base = prev?.count ?? 0;
          let chunks = prev?.chunks ?? 0;
          let monotonic = prev ? prev.monotonic === 1 : true;
          let last = prev?.max_step ?? Number.NEGATIVE_INFINITY;
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
              chunks++,
              base + off,
              end - off,
              f64(steps.subarray(off, end)),
              f64(values.subarray(off, end)),
              f64(timestamps.subarray(off, end)),
            );
          }
          upsertSeries.run(runId, s.key, base + n, chunks, min, max, monotonic ? 1 : 0);
          for (const a of aggregateBatch(base, steps, values, timestamps))
            upsertTier.run(
              runId,
              s.key,
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
        }
      },
    };
  },
};
