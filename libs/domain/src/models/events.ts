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
  {
    name: string;
    description: string;
    tags: KeyValue[];
    card: ModelCard;
    at: number;
    /** Fingerprint of the registering request, when the caller asked for blind retries to be recognised. */
    requestFingerprint?: string;
  }
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
    /** Fields added for the MLflow API; absent on versions created before them. */
    source?: string | null;
    tags?: KeyValue[];
    loggedModelId?: string | null;
    requestFingerprint?: string;
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

export type ModelDescriptionUpdated = DomainEvent<'ModelDescriptionUpdated', { name: string; description: string; at: number }>;
export type ModelTagSet = DomainEvent<'ModelTagSet', { name: string; key: string; value: string; at: number }>;
export type ModelTagDeleted = DomainEvent<'ModelTagDeleted', { name: string; key: string; at: number }>;
export type ModelVersionDescriptionUpdated = DomainEvent<
  'ModelVersionDescriptionUpdated',
  { name: string; version: number; description: string; at: number }
>;
export type ModelVersionTagSet = DomainEvent<'ModelVersionTagSet', { name: string; version: number; key: string; value: string; at: number }>;
export type ModelVersionTagDeleted = DomainEvent<'ModelVersionTagDeleted', { name: string; version: number; key: string; at: number }>;
/** The model, its versions and aliases are gone; the name is free again. */
export type ModelDeleted = DomainEvent<'ModelDeleted', { name: string; at: number }>;
/** On the old name's stream: the model now lives under `newName`, and the old name is free. */
export type ModelRenamed = DomainEvent<'ModelRenamed', { name: string; newName: string; at: number }>;
/**
 * On the new name's stream, in the same append as ModelRenamed: what the deciders need of the
 * model to carry on under its new name (version numbers keep counting from `lastVersion`).
 */
export type ModelRenamedFrom = DomainEvent<
  'ModelRenamedFrom',
  {
    name: string;
    previousName: string;
    lastVersion: number;
    versions: Record<string, { stage: ModelStage; deleted: boolean; runId: string }>;
    aliases: Record<string, number>;
    at: number;
  }
>;
export type ModelEvent =
  | ModelDescriptionUpdated
  | ModelTagSet
  | ModelTagDeleted
  | ModelVersionDescriptionUpdated
  | ModelVersionTagSet
  | ModelVersionTagDeleted
  | ModelDeleted
  | ModelRenamed
  | ModelRenamedFrom
  | ModelRegistered
  | ModelVersionCreated
  | ModelAliasSet
  | ModelAliasRemoved
  | ModelVersionStageChanged
  | ModelVersionDeleted;

const MODEL_EVENT_TYPES: ReadonlySet<string> = new Set<ModelEvent['type']>([
  'ModelRegistered',
  'ModelVersionCreated',
  'ModelAliasSet',
  'ModelAliasRemoved',
  'ModelVersionStageChanged',
  'ModelVersionDeleted',
  'ModelDescriptionUpdated',
  'ModelTagSet',
  'ModelTagDeleted',
  'ModelVersionDescriptionUpdated',
  'ModelVersionTagSet',
  'ModelVersionTagDeleted',
  'ModelDeleted',
  'ModelRenamed',
  'ModelRenamedFrom',
]);

/**
 * A model's stream also carries promotion events (gates, approvals, refusals): this tells the
 * registry's own events apart, for the decider and the models projection alike.
 */
export function isModelEvent(e: { type: string }): e is ModelEvent {
  return MODEL_EVENT_TYPES.has(e.type);
}
