import type { KeyValue } from '../shared/validation.js';
import type { ModelCard, ModelStage } from './events.js';

/** A run's artifact as the command handler found it (null: the run has no artifact at that path). */
export type ArtifactFact = { sha256: string; size: number } | null;

/**
 * Compare-and-set for pointer moves: the version the caller believes holds the alias
 * (null: no version holds it). Undefined skips the check.
 */
export type ExpectedHolder = number | null | undefined;

export type RegisterModel = {
  type: 'RegisterModel';
  data: { name: string; description: string; tags: KeyValue[]; card: Partial<ModelCard>; at: number; retry?: RetryWindow };
};
export type CreateModelVersion = {
  type: 'CreateModelVersion';
  data: {
    name: string;
    runId: string;
    artifactPath: string;
    artifact: ArtifactFact;
    format: string | null;
    signature: Record<string, unknown> | null;
    description: string;
    at: number;
    /** Where the client said the files are (an MLflow `source` URI); null: the run artifact itself. */
    source?: string | null;
    tags?: KeyValue[];
    /** The MLflow 3 logged model the version was made from. */
    loggedModelId?: string | null;
    /** Recognises a client's blind retry of this request; see `RetryWindow`. */
    retry?: RetryWindow;
  };
};
/**
 * A client that retries without an idempotency key (the MLflow client does, on 5xx) resends the
 * same request: the same fingerprint (request fields and caller) within `withinMs` of a creation
 * whose answer the client never received is that retry, and is answered with what it made. A
 * client that did receive the answer and sends the same request again means a new creation.
 */
export interface RetryWindow {
  fingerprint: string;
  withinMs: number;
  /** What this fingerprint created that the client is known to have received: version numbers, 0 for a registration. */
  delivered?: readonly number[];
}
export type SetModelAlias = {
  type: 'SetModelAlias';
  data: { name: string; alias: string; version: number; expectedCurrentVersion: ExpectedHolder; at: number };
};
export type RemoveModelAlias = {
  type: 'RemoveModelAlias';
  data: { name: string; alias: string; expectedCurrentVersion: ExpectedHolder; at: number };
};
export type TransitionModelVersionStage = {
  type: 'TransitionModelVersionStage';
  data: {
    name: string;
    version: number;
    stage: ModelStage;
    /** Moves every other version in the target stage to Archived, in the same append. */
    archiveExisting: boolean;
    /** Compare-and-set on the version's current stage; undefined skips the check. */
    expectedCurrentStage: ModelStage | undefined;
    at: number;
  };
};
export type DeleteModelVersion = {
  type: 'DeleteModelVersion';
  /** `deployedIn`: the environments the version is deployed in (or being deployed to) now. */
  data: { name: string; version: number; deployedIn?: readonly string[]; at: number };
};

export type UpdateModelDescription = { type: 'UpdateModelDescription'; data: { name: string; description: string; at: number } };
export type SetModelTag = { type: 'SetModelTag'; data: { name: string; key: string; value: string; at: number } };
/** Deleting a tag that is not set changes nothing and is no error (as in MLflow). */
export type DeleteModelTag = { type: 'DeleteModelTag'; data: { name: string; key: string; at: number } };
export type UpdateModelVersionDescription = {
  type: 'UpdateModelVersionDescription';
  data: { name: string; version: number; description: string; at: number };
};
export type SetModelVersionTag = { type: 'SetModelVersionTag'; data: { name: string; version: number; key: string; value: string; at: number } };
export type DeleteModelVersionTag = { type: 'DeleteModelVersionTag'; data: { name: string; version: number; key: string; at: number } };
/** Deletes the model with its versions and aliases; its history stays in the log. */
export type DeleteModel = {
  type: 'DeleteModel';
  /** `deployed`: "version in environment" for each version deployed now. */
  data: { name: string; deployed?: readonly string[]; at: number };
};
/**
 * Renames a model: decided on both names' streams at once (see `decideModelRename`).
 * `deployed` as for DeleteModel; `gated`: the model has promotion gates or approvals.
 */
export type RenameModel = {
  type: 'RenameModel';
  data: { name: string; newName: string; deployed?: readonly string[]; gated?: boolean; at: number };
};
/** The commands that move what a name resolves to: where promotion gates will plug in. */
export type ModelPointerCommand = SetModelAlias | RemoveModelAlias | TransitionModelVersionStage;

export type ModelCommand =
  | RegisterModel
  | CreateModelVersion
  | ModelPointerCommand
  | DeleteModelVersion
  | UpdateModelDescription
  | SetModelTag
  | DeleteModelTag
  | UpdateModelVersionDescription
  | SetModelVersionTag
  | DeleteModelVersionTag
  | DeleteModel;
