import { decodeMetricValue, type RecordedEvent, type RunEvent } from '@chronicle/domain';
import { chunksFor } from '../metrics/projection.js';
import type { ProjectionDefinition } from '../runner/projection.js';

interface SeriesState {
  count: number;
  chunks: number;
  minStep: number | null;
  maxStep: number | null;
  monotonic: 0 | 1;
  value: number | null;
  isNan: 0 | 1;
  step: number;
  timestamp: number;
}

/**
 * Every metric series as it stood after each event that logged to it: the rm_metric_series
 * row (count, chunks, step range, monotonic) and the rm_run_metrics row (latest point, count)
 * at that position. Those two tables are written once per batch (flush), so their states
 * between batch ends exist nowhere else; time travel reads them from here. The rules mirror
 * the runs and metrics projections' exactly; a test compares the newest rows with theirs.
 */
export const metricHistoryProjection: ProjectionDefinition = {
  name: 'metric-history.v2',
  tables: ['rm_metric_history'],
  open(db) {
    db.exec(`CREATE TABLE IF NOT EXISTS rm_metric_history (
      run_id TEXT NOT NULL, key TEXT NOT NULL, position INTEGER NOT NULL,
      count INTEGER NOT NULL, chunks INTEGER NOT NULL, min_step INTEGER, max_step INTEGER, monotonic INTEGER NOT NULL,
      value REAL, is_nan INTEGER NOT NULL, step INTEGER NOT NULL, timestamp INTEGER NOT NULL,
      PRIMARY KEY (run_id, key, position)
    ) WITHOUT ROWID`);
    const newest = db.prepare<[string, string], { count: number; chunks: number; min_step: number | null; max_step: number | null; monotonic: 0 | 1; value: number | null; is_nan: 0 | 1; step: number; timestamp: number }>(
      'SELECT count, chunks, min_step, max_step, monotonic, value, is_nan, step, timestamp FROM rm_metric_history WHERE run_id = ? AND key = ? ORDER BY position DESC LIMIT 1',
    );
    // OR REPLACE: one event may carry the same key twice; its row is the state after both.
    const write = db.prepare(
      'INSERT OR REPLACE INTO rm_metric_history (run_id, key, position, count, chunks, min_step, max_step, monotonic, value, is_nan, step, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // The series touched in the current batch, so a metric-heavy batch reads each one once.
    const states = new Map<string, SeriesState | null>();
    const stateOf = (runId: string, key: string): SeriesState | null => {
      const id = `${runId}\u0000${key}`;
      if (states.has(id)) return states.get(id)!;
      const r = newest.get(runId, key);
      const s: SeriesState | null = r
        ? { count: r.count, chunks: r.chunks, minStep: r.min_step, maxStep: r.max_step, monotonic: r.monotonic, value: r.value, isNan: r.is_nan, step: r.step, timestamp: r.timestamp }
        : null;
      states.set(id, s);
      return s;
    };
    const clear = () => states.clear();

    return {
      apply(e: RecordedEvent) {
        if (e.type !== 'RunMetricsLogged') return;
        const ev = e as unknown as Extract<RunEvent, { type: 'RunMetricsLogged' }>;
        const runId = ev.data.runId;
        for (const s of ev.data.series) {
          const prev = stateOf(runId, s.key);
          const n = s.steps.length;
          // Metrics projection: steps stay monotonic while none goes below the greatest so far.
          let last = prev?.maxStep ?? Number.NEGATIVE_INFINITY;
          let monotonic = prev ? prev.monotonic === 1 : true;
          let min = Number.POSITIVE_INFINITY;
          let max = Number.NEGATIVE_INFINITY;
          // Runs projection: the latest point has the greatest step, then the greatest timestamp.
          let best = -1;
          for (let i = 0; i < n; i++) {
            const st = s.steps[i]!;
            if (st < last) monotonic = false;
            last = st;
            if (st < min) min = st;
            if (st > max) max = st;
            if (best < 0 || st > s.steps[best]! || (st === s.steps[best] && s.timestamps[i]! >= s.timestamps[best]!)) best = i;
          }
          const next: SeriesState = {
            count: (prev?.count ?? 0) + n,
            chunks: chunksFor((prev?.count ?? 0) + n),
            // SQL's min() and max() of the stored row: NULL stays NULL.
            minStep: prev ? (prev.minStep === null ? null : Math.min(prev.minStep, min)) : min,
            maxStep: prev ? (prev.maxStep === null ? null : Math.max(prev.maxStep, max)) : max,
            monotonic: monotonic ? 1 : 0,
            value: prev?.value ?? null,
            isNan: prev?.isNan ?? 0,
            step: prev?.step ?? 0,
            timestamp: prev?.timestamp ?? 0,
          };
          if (best >= 0) {
            const step = s.steps[best]!;
            const ts = s.timestamps[best]!;
            if (!prev || !(prev.step > step || (prev.step === step && prev.timestamp > ts))) {
              const v = decodeMetricValue(s.values[best]!);
              next.step = step;
              next.timestamp = ts;
              next.value = Number.isNaN(v) ? null : v;
              next.isNan = Number.isNaN(v) ? 1 : 0;
            }
          }
          states.set(`${runId}\u0000${s.key}`, next);
          write.run(runId, s.key, e.position, next.count, next.chunks, next.minStep, next.maxStep, next.monotonic, next.value, next.isNan, next.step, next.timestamp);
        }
      },
      flush: clear,
      discard: clear,
    };
  },
};
