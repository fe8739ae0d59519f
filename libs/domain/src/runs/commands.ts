import type { KeyValue } from '../shared/validation.js';
import type { RunSource, TerminalStatus } from './events.js';

/** What a run command needs to know about another aggregate, looked up by the command handler. */
export type ExperimentFact = { experimentId: string; status: 'active' | 'deleted' } | null;
export type ParentRunFact = { runId: string; experimentId: string } | null;
/** The run a reproduction re-runs, looked up by the handler: null, it does not exist. */
export type ReproducedRunFact = { runId: string } | null;

export interface MetricPoint {
  key: string;
  value: number;
  step: number;
  timestamp: number;
}

export interface MetricPointInput {
  key: string;
  value: number;
  step?: number | undefined;
  timestamp?: number | undefined;
}

export type StartRun = {
  type: 'StartRun';
  data: {
    runId: string;
    name: string;
    tags: KeyValue[];
    parentRunId: string | null;
    source: RunSource;
    environment: Record<string, unknown>;
    startTime: number;
    experiment: ExperimentFact;
    /** Looked up only when parentRunId is set. */
    parent: ParentRunFact;
    /** Set when this run reproduces another (`chronicle reproduce --execute`). */
    reproductionOf?: string | null;
    /** Looked up only when reproductionOf is set. */
    reproduced?: ReproducedRunFact;
  };
};
export type LogParams = { type: 'LogParams'; data: { runId: string; params: KeyValue[] } };
export type LogMetrics = {
  type: 'LogMetrics';
  /** Points without a step are at step 0; without a timestamp, at `defaultTimestamp` (the caller's clock). */
  data: { runId: string; points: readonly MetricPointInput[]; defaultTimestamp: number };
};
export type SetRunTags = { type: 'SetRunTags'; data: { runId: string; tags: KeyValue[] } };
export type DeleteRunTag = { type: 'DeleteRunTag'; data: { runId: string; key: string } };
export type FinishRun = { type: 'FinishRun'; data: { runId: string; status: TerminalStatus; endTime: number } };
export type DeleteRun = { type: 'DeleteRun'; data: { runId: string; at: number } };
export type RestoreRun = { type: 'RestoreRun'; data: { runId: string; at: number } };
export type MoveRun = { type: 'MoveRun'; data: { runId: string; target: ExperimentFact; toExperimentId: string } };

export type LogRunArtifact = {
  type: 'LogRunArtifact';
  data: { runId: string; path: string; sha256: string; size: number; contentType: string };
};

/**
 * Params, tags and metric points of one run, recorded together or not at all (MLflow's
 * log-batch). `name`, when given, renames the run in the same append: MLflow treats the
 * `mlflow.runName` tag and the run's name as one thing.
 */
export type LogBatch = {
  type: 'LogBatch';
  data: {
    runId: string;
    params: KeyValue[];
    tags: KeyValue[];
    points: readonly MetricPointInput[];
    defaultTimestamp: number;
    name?: string;
  };
};

/** A dataset a run used, as MLflow describes one: a reference (name, digest, source), not its content. */
export interface RunDatasetInput {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string;
  profile: string;
  /** The input's tags, e.g. `mlflow.data.context` = training. */
  tags: KeyValue[];
}

/** `models`: ids of logged models the run used (MLflow 3's model inputs). */
export type LogRunDatasets = { type: 'LogRunDatasets'; data: { runId: string; datasets: RunDatasetInput[]; models?: string[] } };

export type RunCommand =
  | StartRun
  | LogParams
  | LogMetrics
  | SetRunTags
  | DeleteRunTag
  | FinishRun
  | DeleteRun
  | RestoreRun
  | MoveRun
  | LogRunArtifact
  | LogBatch
  | LogRunDatasets;
