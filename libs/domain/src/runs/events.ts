import type { DomainEvent } from '../shared/decider.js';
import type { JsonMetricValue } from '../shared/metric-value.js';
import type { KeyValue } from '../shared/validation.js';
import type { RunDatasetInput } from './commands.js';

export const runStream = (runId: string) => `run-${runId}`;

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
export const TERMINAL_STATUSES = ['FINISHED', 'FAILED', 'KILLED'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export interface RunSource {
  gitCommit?: string | undefined;
  gitRepo?: string | undefined;
  source?: string | undefined;
  entryPoint?: string | undefined;
  /** The branch checked out when the run started, if any. */
  gitBranch?: string | undefined;
  /** Whether the working tree had uncommitted changes to tracked files. */
  gitDirty?: boolean | undefined;
  /** `git diff HEAD` of a dirty tree, when small enough to keep (see MAX_GIT_DIFF_BYTES). */
  gitDiff?: string | undefined;
  /** SHA-256 of the full diff, kept even when the diff itself is too large: a reproducer can check its patch. */
  gitDiffSha256?: string | undefined;
  /** The command line that ran, interpreter first (`node`, `python`), as an argv: never a shell string. */
  command?: string[] | undefined;
  /** Where the command ran, relative to the repository root ('' for the root). */
  workingDir?: string | undefined;
}

/** Points of one metric key inside one batch, stored column-wise: compact and fast to (de)serialise. */
export interface MetricSeriesBatch {
  key: string;
  steps: number[];
  values: JsonMetricValue[];
  timestamps: number[];
}

export type RunStarted = DomainEvent<
  'RunStarted',
  {
    runId: string;
    experimentId: string;
    name: string;
    tags: KeyValue[];
    parentRunId: string | null;
    source: RunSource;
    environment: Record<string, unknown>;
    startTime: number;
    /** The run this one re-ran to check it reproduces; absent on ordinary runs (and on every run before it existed). */
    reproductionOf?: string;
  }
>;
export type RunParamsLogged = DomainEvent<'RunParamsLogged', { runId: string; params: KeyValue[] }>;
export type RunMetricsLogged = DomainEvent<'RunMetricsLogged', { runId: string; series: MetricSeriesBatch[] }>;
export type RunTagsSet = DomainEvent<'RunTagsSet', { runId: string; tags: KeyValue[] }>;
export type RunTagDeleted = DomainEvent<'RunTagDeleted', { runId: string; key: string }>;
export type RunFinished = DomainEvent<'RunFinished', { runId: string; status: TerminalStatus; endTime: number }>;
export type RunDeleted = DomainEvent<'RunDeleted', { runId: string; at: number }>;
export type RunRestored = DomainEvent<'RunRestored', { runId: string; at: number }>;
export type RunMoved = DomainEvent<'RunMoved', { runId: string; fromExperimentId: string; toExperimentId: string }>;
/** A file the run produced, stored in the blob store under its content hash. */
export type RunArtifactLogged = DomainEvent<
  'RunArtifactLogged',
  { runId: string; path: string; sha256: string; size: number; contentType: string }
>;

export type RunRenamed = DomainEvent<'RunRenamed', { runId: string; name: string }>;
/** Dataset references a run declared as inputs (MLflow's log-inputs); only ones new to the run. */
export type RunDatasetsLogged = DomainEvent<
  'RunDatasetsLogged',
  // `models` only when the run used logged models, so dataset-only events keep their shape.
  { runId: string; datasets: RunDatasetInput[]; models?: string[] }
>;

export type RunEvent =
  | RunStarted
  | RunParamsLogged
  | RunMetricsLogged
  | RunTagsSet
  | RunTagDeleted
  | RunFinished
  | RunDeleted
  | RunRestored
  | RunMoved
  | RunArtifactLogged
  | RunRenamed
  | RunDatasetsLogged;
