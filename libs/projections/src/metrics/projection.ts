import { decodeMetricValue, type RecordedEvent, type RunEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';
import { asF64, f64 } from './float64.js';
import { aggregateBatch, type BucketAggregate } from './tiers.js';

/**
 * Points per stored chunk. Chunk k of a series holds its points [k * CHUNK_POINTS, (k + 1) *
 * CHUNK_POINTS): where a point lands depends on its index alone, not on how events were
 * batched, so a replay and live projection store the same rows. Only the newest chunk grows;
 * a batch rewrites it once (at most 24 KiB) and appends whole ones after it.
 */
export const CHUNK_POINTS = 1024;

/** Chunks of a series of `count` points. */
export const chunksFor = (count: number) => Math.ceil(count / CHUNK_POINTS);


/**
 * Metric points, stored the way time-series stores do: per run and key, chunks of packed
 * float64 steps, values and timestamps (NaN and infinities survive as themselves), plus the
 * downsampled tiers that charts read.
 */
export const metricsProjection: ProjectionDefinition = {
  // v2: fixed-size chunks (v1 stored one chunk per event).
  name: 'metrics.v2',
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

    const series = db.prepare<[string, string], { count: number; max_step: number | null; monotonic: number }>(
      'SELECT count, max_step, monotonic FROM rm_metric_series WHERE run_id = ? AND key = ?',
    );
    const upsertSeries = db.prepare(
      `INSERT INTO rm_metric_series (run_id, key, count, chunks, min_step, max_step, monotonic) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, key) DO UPDATE SET count = excluded.count, chunks = excluded.chunks,
         min_step = min(min_step, excluded.min_step), max_step = max(max_step, excluded.max_step), monotonic = excluded.monotonic`,
    );
    const openChunk = db.prepare<[string, string, number], { count: number; steps: Buffer; vals: Buffer; timestamps: Buffer }>(
      'SELECT count, steps, vals, timestamps FROM rm_metric_chunks WHERE run_id = ? AND key = ? AND seq = ?',
    );
    const writeChunk = db.prepare(
      'INSERT OR REPLACE INTO rm_metric_chunks (run_id, key, seq, first_index, count, steps, vals, timestamps) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
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
    // the batch is written, and the batch's points. Written and dropped by flush(): nothing
    // here outlives a batch.
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
          maxStep: prev ? prev.max_step : Number.NEGATIVE_INFINITY,
          monotonic: prev ? prev.monotonic === 1 : true,
          batchMin: Number.POSITIVE_INFINITY,
          batchMax: Number.NEGATIVE_INFINITY,
          points: new Columns(),
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

    /** Appends the batch's points (numbered from `base`) to the series' chunks. */
    const writeChunks = (runId: string, key: string, base: number, points: Points) => {
      const n = points.length;
      let off = 0;
      const filled = base % CHUNK_POINTS;
      if (filled > 0) {
        // The newest chunk has room: it is rewritten with this batch's first points added.
        const seq = (base - filled) / CHUNK_POINTS;
        const old = openChunk.get(runId, key, seq);
        if (!old || old.count !== filled) throw new Error(`metrics: chunk ${seq} of ${runId}/${key} holds ${old?.count ?? 'no'} points, ${filled} expected`);
        off = Math.min(n, CHUNK_POINTS - filled);
        const join = (stored: Buffer, added: Float64Array) => {
          const out = new Float64Array(filled + off);
          out.set(asF64(stored));
          out.set(added.subarray(0, off), filled);
          return f64(out);
        };
        writeChunk.run(runId, key, seq, base - filled, filled + off, join(old.steps, points.steps), join(old.vals, points.values), join(old.timestamps, points.timestamps));
      }
      for (; off < n; off += CHUNK_POINTS) {
        const end = Math.min(off + CHUNK_POINTS, n);
        const cut = (a: Float64Array) => f64(a.subarray(off, end));
        writeChunk.run(runId, key, (base + off) / CHUNK_POINTS, base + off, end - off, cut(points.steps), cut(points.values), cut(points.timestamps));
      }
    };

    return {
      apply(e: RecordedEvent) {
        const ev = e as unknown as RunEvent;
        if (ev.type !== 'RunMetricsLogged') return;
        const runId = ev.data.runId;
        for (const s of ev.data.series) {
          const n = s.steps.length;
          const p = seriesOf(runId, s.key);
          const cols = p.points;
          const at = cols.grow(n);
          const { steps, values, timestamps } = cols;
          let monotonic = p.monotonic;
          let last = p.maxStep ?? Number.NEGATIVE_INFINITY;
          let min = Number.POSITIVE_INFINITY;
          let max = Number.NEGATIVE_INFINITY;
          for (let i = 0; i < n; i++) {
            const st = s.steps[i]!;
            steps[at + i] = st;
            values[at + i] = decodeMetricValue(s.values[i]!);
            timestamps[at + i] = s.timestamps[i]!;
            if (st < last) monotonic = false;
            last = st;
            if (st < min) min = st;
            if (st > max) max = st;
          }
          p.count += n;
          p.monotonic = monotonic;
          // What the row's max(max_step, excluded.max_step) would hold after this event.
          if (p.maxStep !== null && max > p.maxStep) p.maxStep = max;
          if (min < p.batchMin) p.batchMin = min;
          if (max > p.batchMax) p.batchMax = max;
        }
      },
      flush() {
        try {
          for (const [runId, byKey] of pending)
            for (const [key, p] of byKey) {
              const points = p.points.trimmed();
              const base = p.count - points.length;
              writeChunks(runId, key, base, points);
              // The upsert's min()/max() fold the batch's extremes into the stored ones, exactly
              // as they folded each event's before.
              upsertSeries.run(runId, key, p.count, chunksFor(p.count), p.batchMin, p.batchMax, p.monotonic ? 1 : 0);
              // The batch's points aggregated at once give the same buckets as each event's
              // aggregates merged in order (mergeInto), at a fraction of the objects.
              for (const a of aggregateBatch(base, points.steps, points.values, points.timestamps)) writeTier(runId, key, a);
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
  /** As the row holds it; SQL's max() keeps a NULL, so this does too. */
  maxStep: number | null;
  monotonic: boolean;
  /** Smallest and greatest step of this batch's events for the series. */
  batchMin: number;
  batchMax: number;
  /** The batch's points in arrival order. */
  points: Columns;
}

interface Points {
  length: number;
  steps: Float64Array;
  values: Float64Array;
  timestamps: Float64Array;
}

/** Steps, values and timestamps of a batch's points, in one growing backing store per column. */
class Columns {
  // A chunk's worth to start with: a batch usually brings a series tens to hundreds of points.
  steps = new Float64Array(CHUNK_POINTS);
  values = new Float64Array(CHUNK_POINTS);
  timestamps = new Float64Array(CHUNK_POINTS);
  length = 0;

  /** Makes room for `n` more points; returns the index of the first. */
  grow(n: number): number {
    const at = this.length;
    this.length += n;
    if (this.length > this.steps.length) {
      const capacity = Math.max(this.length, this.steps.length * 2);
      const widen = (a: Float64Array) => {
        const b = new Float64Array(capacity);
        b.set(a.subarray(0, at));
        return b;
      };
      this.steps = widen(this.steps);
      this.values = widen(this.values);
      this.timestamps = widen(this.timestamps);
    }
    return at;
  }

  /** The points, without the spare capacity. */
  trimmed(): Points {
    const n = this.length;
    return { length: n, steps: this.steps.subarray(0, n), values: this.values.subarray(0, n), timestamps: this.timestamps.subarray(0, n) };
  }
}
