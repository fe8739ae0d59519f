import {
  decodeMetricValue,
  evolveRun,
  initialRun,
  type JsonMetricValue,
  type KeyValue,
  type RecordedEvent,
  type RunEvent,
  type RunSource,
  type RunStarted,
  type RunStatus,
} from '@chronicle/domain';

/** The latest point of one metric: greatest step, then greatest timestamp, later logs winning ties (as the runs read model). */
export interface LatestPoint {
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

/** What a run's stream says about it, folded from its events. */
export interface RunFacts {
  runId: string;
  experimentId: string;
  name: string;
  status: RunStatus;
  deleted: boolean;
  startTime: number;
  endTime: number | null;
  /** The actor of RunStarted: who (or which token) started the run. */
  startedBy: string;
  startPosition: number;
  parentRunId: string | null;
  reproductionOf: string | null;
  source: RunSource;
  environment: Record<string, unknown>;
  /** Sorted by key. */
  params: KeyValue[];
  tags: KeyValue[];
  /** Sorted by key. */
  metrics: LatestPoint[];
  /** Position of the stream's last event folded in. */
  lastPosition: number;
}

const byKey = <T extends { key: string }>(a: T, b: T) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * Folds a run stream with the run decider's own `evolve` (params, tags, status: whatever
 * events the domain adds, the decider already folds), plus what the decider's state leaves
 * out because no decision needs it: source, environment, end time and latest metrics.
 * Returns null when the events do not start the run.
 */
export function foldRunFacts(events: readonly RecordedEvent[]): RunFacts | null {
  const first = events[0];
  if (!first || first.type !== 'RunStarted') return null;
  const start = (first as unknown as RecordedEvent<RunStarted>).data;
  let state = initialRun();
  let endTime: number | null = null;
  let name = start.name;
  const metrics = new Map<string, LatestPoint>();
  for (const e of events) {
    try {
      state = evolveRun(state, e as unknown as RunEvent);
    } catch {
      // An event type this build does not know: the state it would change is left as it was.
    }
    if (e.type === 'RunFinished') endTime = (e.data as { endTime: number }).endTime;
    if (e.type === 'RunRenamed') name = String((e.data as { name: string }).name);
    if (e.type === 'RunMetricsLogged') {
      const series = (e.data as { series: { key: string; steps: number[]; values: JsonMetricValue[]; timestamps: number[] }[] }).series;
      for (const s of series)
        for (let i = 0; i < s.steps.length; i++) {
          const old = metrics.get(s.key);
          const step = s.steps[i]!;
          const timestamp = s.timestamps[i]!;
          if (!old || step > old.step || (step === old.step && timestamp >= old.timestamp))
            metrics.set(s.key, { key: s.key, value: decodeMetricValue(s.values[i]!), step, timestamp });
        }
    }
  }
  return {
    runId: start.runId,
    experimentId: state.experimentId,
    name,
    status: state.status === 'none' ? 'RUNNING' : state.status,
    deleted: state.deleted,
    startTime: start.startTime,
    endTime,
    startedBy: first.actor,
    startPosition: first.position,
    parentRunId: start.parentRunId,
    reproductionOf: typeof start.reproductionOf === 'string' ? start.reproductionOf : null,
    source: start.source ?? {},
    environment: start.environment ?? {},
    params: Object.entries(state.params).map(([key, value]) => ({ key, value })).sort(byKey),
    tags: Object.entries(state.tags).map(([key, value]) => ({ key, value })).sort(byKey),
    metrics: [...metrics.values()].sort(byKey),
    lastPosition: events[events.length - 1]!.position,
  };
}
