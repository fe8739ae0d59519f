import { runStream } from '@chronicle/domain';

/**
 * How time travel dates the rows of one read-model table. Every table not listed below is
 * `versioned`: triggers copy each row's successive contents into `<table>__versions`, so a
 * new read model gets time travel without any code of its own.
 */
export type TableTiming =
  /**
   * Triggers keep every past content of each row with the positions it was valid between.
   * `untracked` columns are left out of the versions (they change too often to copy the row
   * each time) and computed for a past position by the given SQL instead, where `v` is the
   * version row and `chronicle_as_of()` the position asked about.
   */
  | { kind: 'versioned'; untracked?: Readonly<Record<string, string>> }
  /** Rows are only ever inserted and carry the position of the event that inserted them. */
  | { kind: 'append-only'; positionColumn: string }
  /** Rebuilt for a past position by a view of its own (temporal/metric-views.ts). */
  | { kind: 'derived' }
  /** Kept for time travel itself; not a table the queries read. */
  | { kind: 'internal' };

/**
 * Event types after which the runs projection stamps a run's `updated_at` and `position`
 * (its per-batch "touch"). Keep in step with runs/projection.ts: a missing type makes past
 * `updatedAt` values too old, which the time-travel equality test reports.
 */
export const RUN_TOUCHING_EVENTS = [
  'RunStarted',
  'RunParamsLogged',
  'RunMetricsLogged',
  'RunTagsSet',
  'RunTagDeleted',
  'RunFinished',
  'RunDeleted',
  'RunRestored',
  'RunMoved',
  'RunRenamed',
] as const;

const RUN_STREAM_PREFIX = runStream('');
const lastRunTouch = (column: 'recorded_at' | 'position') =>
  `(SELECT a.${column} FROM main.rm_audit_log a WHERE a.stream = '${RUN_STREAM_PREFIX}' || v.run_id AND a.position <= chronicle_as_of()
     AND a.type IN (${RUN_TOUCHING_EVENTS.map((t) => `'${t}'`).join(', ')}) ORDER BY a.position DESC LIMIT 1)`;

const TIMINGS: Readonly<Record<string, TableTiming>> = {
  // A run is touched by nearly every event (each metric batch): copying the row each time
  // would store the runs table once per event. The audit log already dates every event.
  rm_runs: { kind: 'versioned', untracked: { updated_at: lastRunTouch('recorded_at'), position: lastRunTouch('position') } },
  // One row per event: a versions table would double the largest table but one.
  rm_audit_log: { kind: 'append-only', positionColumn: 'position' },
  rm_promotion_decisions: { kind: 'append-only', positionColumn: 'position' },
  rm_deployment_attempts: { kind: 'append-only', positionColumn: 'position' },
  rm_webhook_deliveries: { kind: 'append-only', positionColumn: 'position' },
  // Written once per batch (flush), from per-event summaries in rm_metric_history.
  rm_run_metrics: { kind: 'derived' },
  rm_metric_series: { kind: 'derived' },
  rm_metric_chunks: { kind: 'derived' },
  rm_metric_tiers: { kind: 'derived' },
  rm_metric_history: { kind: 'internal' },
};

export function timingOf(table: string): TableTiming {
  return TIMINGS[table] ?? { kind: 'versioned' };
}

export const versionsTableOf = (table: string) => `${table}__versions`;

/** The tables time travel keeps beside a projection's own: dropped, rebuilt and swapped with them. */
export function temporalTablesOf(tables: readonly string[]): string[] {
  return tables.filter((t) => timingOf(t).kind === 'versioned').map(versionsTableOf);
}
