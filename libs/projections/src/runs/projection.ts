import { decodeMetricValue, type RecordedEvent, type RunEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

/**
 * Runs with their params, tags and the latest value of every metric: what search and the
 * runs table read. Metric points themselves live in the metrics projection.
 */
export const runsProjection: ProjectionDefinition = {
  name: 'runs.v1',
  tables: ['rm_runs', 'rm_run_params', 'rm_run_tags', 'rm_run_metrics'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_runs (
        run_id TEXT PRIMARY KEY,
        experiment_id TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        lifecycle TEXT NOT NULL,
        start_time INTEGER NOT NULL,
        end_time INTEGER,
        parent_run_id TEXT,
        user_id TEXT NOT NULL,
        source TEXT NOT NULL,
        environment TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        position INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS rm_runs_experiment ON rm_runs (experiment_id, start_time DESC);
      CREATE INDEX IF NOT EXISTS rm_runs_parent ON rm_runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS rm_run_params (
        run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_run_tags (
        run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_run_metrics (
        run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL, is_nan INTEGER NOT NULL DEFAULT 0,
        step INTEGER NOT NULL, timestamp INTEGER NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rm_run_params_kv ON rm_run_params (key, value);
      CREATE INDEX IF NOT EXISTS rm_run_tags_kv ON rm_run_tags (key, value);
      CREATE INDEX IF NOT EXISTS rm_run_metrics_kv ON rm_run_metrics (key, value);`);

    const insertRun = db.prepare(
      `INSERT INTO rm_runs (run_id, experiment_id, name, status, lifecycle, start_time, end_time, parent_run_id, user_id, source, environment, updated_at, position)
       VALUES (?, ?, ?, 'RUNNING', 'active', ?, NULL, ?, ?, ?, ?, ?, ?)`,
    );
    const touch = db.prepare('UPDATE rm_runs SET updated_at = ?, position = ? WHERE run_id = ?');
    const finish = db.prepare('UPDATE rm_runs SET status = ?, end_time = ? WHERE run_id = ?');
    const lifecycle = db.prepare('UPDATE rm_runs SET lifecycle = ? WHERE run_id = ?');
    const move = db.prepare('UPDATE rm_runs SET experiment_id = ? WHERE run_id = ?');
    const rename = db.prepare('UPDATE rm_runs SET name = ? WHERE run_id = ?');
    const setParam = db.prepare('INSERT OR IGNORE INTO rm_run_params (run_id, key, value) VALUES (?, ?, ?)');
    const setTag = db.prepare(
      'INSERT INTO rm_run_tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
    );
    const deleteTag = db.prepare('DELETE FROM rm_run_tags WHERE run_id = ? AND key = ?');
    const latest = db.prepare<[string, string], { step: number; timestamp: number }>(
      'SELECT step, timestamp FROM rm_run_metrics WHERE run_id = ? AND key = ?',
    );
    const upsertLatest = db.prepare(
      `INSERT INTO rm_run_metrics (run_id, key, value, is_nan, step, timestamp, count) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, is_nan = excluded.is_nan,
         step = excluded.step, timestamp = excluded.timestamp, count = count + excluded.count`,
    );
    const addCount = db.prepare('UPDATE rm_run_metrics SET count = count + ? WHERE run_id = ? AND key = ?');

    // The latest point of every (run, key) and the last touch of every run seen in the current
    // batch, written once by flush(): a metric-heavy batch touches few rows many times.
    const latestOf = new Map<string, Map<string, PendingLatest>>();
    const touched = new Map<string, { recordedAt: number; position: number }>();
    const clear = () => {
      latestOf.clear();
      touched.clear();
    };
    const pendingLatest = (runId: string, key: string): PendingLatest => {
      let byKey = latestOf.get(runId);
      if (!byKey) latestOf.set(runId, (byKey = new Map()));
      let p = byKey.get(key);
      if (!p) {
        const prev = latest.get(runId, key);
        p = { stored: prev !== undefined, step: prev?.step ?? 0, timestamp: prev?.timestamp ?? 0, value: null, isNan: 0, moved: false, count: 0 };
        byKey.set(key, p);
      }
      return p;
    };

    return {
      apply(e: RecordedEvent) {
        const ev = e as unknown as RunEvent;
        const runId = ev.data.runId;
        switch (ev.type) {
          case 'RunStarted': {
            const d = ev.data;
            insertRun.run(
              runId,
              d.experimentId,
              d.name,
              d.startTime,
              d.parentRunId,
              e.actor.replace(/^(user|system):/, ''),
              JSON.stringify(d.source),
              JSON.stringify(d.environment),
              e.recordedAt,
              e.position,
            );
            for (const t of d.tags) setTag.run(runId, t.key, t.value);
            // The row did not exist for a touch before it to update.
            touched.delete(runId);
            return;
          }
          case 'RunParamsLogged':
            for (const p of ev.data.params) setParam.run(runId, p.key, p.value);
            break;
          case 'RunMetricsLogged':
            for (const s of ev.data.series) {
              // "Latest" is MLflow's: the point with the greatest step, then the greatest timestamp.
              let best = -1;
              for (let i = 0; i < s.steps.length; i++) {
                if (
                  best < 0 ||
                  s.steps[i]! > s.steps[best]! ||
                  (s.steps[i] === s.steps[best] && s.timestamps[i]! >= s.timestamps[best]!)
                )
                  best = i;
              }
              const p = pendingLatest(runId, s.key);
              const step = s.steps[best]!;
              const ts = s.timestamps[best]!;
              p.count += s.steps.length;
              if (p.stored && (p.step > step || (p.step === step && p.timestamp > ts))) continue;
              const v = decodeMetricValue(s.values[best]!);
              p.stored = true;
              p.moved = true;
              p.step = step;
              p.timestamp = ts;
              p.value = Number.isNaN(v) ? null : v;
              p.isNan = Number.isNaN(v) ? 1 : 0;
            }
            break;
          case 'RunTagsSet':
            for (const t of ev.data.tags) setTag.run(runId, t.key, t.value);
            break;
          case 'RunTagDeleted':
            deleteTag.run(runId, ev.data.key);
            break;
          case 'RunFinished':
            finish.run(ev.data.status, ev.data.endTime, runId);
            break;
          case 'RunDeleted':
            lifecycle.run('deleted', runId);
            break;
          case 'RunRestored':
            lifecycle.run('active', runId);
            break;
          case 'RunMoved':
            move.run(ev.data.toExperimentId, runId);
            break;
          case 'RunRenamed':
            rename.run(ev.data.name, runId);
            break;
          default:
            return;
        }
        // Time travel dates touches from the audit log: a new touching event type goes in
        // RUN_TOUCHING_EVENTS (temporal/table-timing.ts) too.
        touched.set(runId, { recordedAt: e.recordedAt, position: e.position });
      },
      flush() {
        try {
          for (const [runId, byKey] of latestOf)
            for (const [key, p] of byKey) {
              if (p.moved) upsertLatest.run(runId, key, p.value, p.isNan, p.step, p.timestamp, p.count);
              else addCount.run(p.count, runId, key);
            }
          for (const [runId, t] of touched) touch.run(t.recordedAt, t.position, runId);
        } finally {
          clear();
        }
      },
      discard: clear,
    };
  },
};

interface PendingLatest {
  /** Whether the row exists, or will once the batch is written. */
  stored: boolean;
  step: number;
  timestamp: number;
  value: number | null;
  isNan: 0 | 1;
  /** The batch brought a new latest point: upsert it, else only add to the count. */
  moved: boolean;
  /** Points of the batch, added to the row's count. */
  count: number;
}
