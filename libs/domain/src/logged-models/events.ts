import type { DomainEvent } from '../shared/decider.js';
import type { KeyValue } from '../shared/validation.js';

/**
 * An MLflow 3 "logged model": a model logged by a run (`mlflow.<flavor>.log_model`), before
 * and apart from any registered name. Its files are artifacts of a run; the registry's
 * versions can point at them.
 */
export const loggedModelStream = (modelId: string) => `logged-model-${modelId}`;

export const LOGGED_MODEL_STATUSES = ['PENDING', 'READY', 'FAILED'] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

export type LoggedModelCreated = DomainEvent<
  'LoggedModelCreated',
  {
    modelId: string;
    experimentId: string;
    name: string;
    modelType: string;
    /** The run the client said produced it; null when logged outside a run. */
    sourceRunId: string | null;
    /** The run whose artifacts hold its files (the source run, or one started to hold them). */
    filesRunId: string;
    /** Where in that run's artifacts the files are. */
    artifactPath: string;
    params: KeyValue[];
    tags: KeyValue[];
    at: number;
  }
>;
export type LoggedModelFinalized = DomainEvent<'LoggedModelFinalized', { modelId: string; status: LoggedModelStatus; at: number }>;
export type LoggedModelTagsSet = DomainEvent<'LoggedModelTagsSet', { modelId: string; tags: KeyValue[]; at: number }>;
export type LoggedModelTagDeleted = DomainEvent<'LoggedModelTagDeleted', { modelId: string; key: string; at: number }>;
export type LoggedModelParamsLogged = DomainEvent<'LoggedModelParamsLogged', { modelId: string; params: KeyValue[]; at: number }>;
/** A run declared the model as its output at a step (MLflow's log-outputs). */
export type LoggedModelOutputLogged = DomainEvent<'LoggedModelOutputLogged', { modelId: string; runId: string; step: number; at: number }>;
export type LoggedModelDeleted = DomainEvent<'LoggedModelDeleted', { modelId: string; at: number }>;

export type LoggedModelEvent =
  | LoggedModelCreated
  | LoggedModelFinalized
  | LoggedModelTagsSet
  | LoggedModelTagDeleted
  | LoggedModelParamsLogged
  | LoggedModelOutputLogged
  | LoggedModelDeleted;
