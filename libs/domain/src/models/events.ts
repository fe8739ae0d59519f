import type { DomainEvent } from '../shared/decider.js';
import type { KeyValue } from '../shared/validation.js';

/** One stream per model name, so creating it with `no_stream` makes names unique. */
export const modelStream = (name: string) => `model-${name}`;

/** MLflow's stages. Many versions may share one; `archiveExisting` moves the others out. */
export const MODEL_STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];

/** What a model is for and where it falls short: the model card, kept with the model. */
export interface ModelCard {
  intendedUse: string;
  limitations: string;
  trainingData: string;
  evaluation: string;
  owners: string[];
}

export type ModelRegistered = DomainEvent<
  'ModelRegistered',
  { name: string; description: string; tags: KeyValue[]; card: ModelCard; at: number }
>;
export type ModelVersionCreated = DomainEvent<
  'ModelVersionCreated',
  {
    name: string;
    version: number;
    runId: string;
    artifactPath: string;
    /** The immutable content the version points at, copied from the run's artifact. */
    sha256: string;
    size: number;
    format: string | null;
    signature: Record<string, unknown> | null;
    description: string;
    at: number;
  }
>;
export type ModelAliasSet = DomainEvent<
  'ModelAliasSet',
  { name: string; alias: string; version: number; previousVersion: number | null; at: number }
>;
export type ModelAliasRemoved = DomainEvent<'ModelAliasRemoved', { name: string; alias: string; version: number; at: number }>;
export type ModelVersionStageChanged = DomainEvent<
  'ModelVersionStageChanged',
  { name: string; version: number; fromStage: ModelStage; toStage: ModelStage; at: number }
>;
export type ModelVersionDeleted = DomainEvent<'ModelVersionDeleted', { name: string; version: number; at: number }>;

export type ModelEvent =
  | ModelRegistered
  | ModelVersionCreated
  | ModelAliasSet
  | ModelAliasRemoved
  | ModelVersionStageChanged
  | ModelVersionDeleted;
