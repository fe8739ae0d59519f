import type { DomainEvent } from '../shared/decider.js';
import type { JsonMetricValue } from '../shared/metric-value.js';
import type { KeyValue } from '../shared/validation.js';

export const runStream = (runId: string) => `run-${runId}`;

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
export const TERMINAL_STATUSES = ['FINISHED', 'FAILED', 'KILLED'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export interface RunSource {
  gitCommit?: string | undefined;
  gitRepo?: string | undefined;
  source?: string | undefined;
  entryPoint?: string | undefined;
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
  | RunArtifactLogged;
