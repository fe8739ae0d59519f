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
  data: { name: string; description: string; tags: KeyValue[]; card: Partial<ModelCard>; at: number };
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
  };
};
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

/** The commands that move what a name resolves to: where promotion gates will plug in. */
export type ModelPointerCommand = SetModelAlias | RemoveModelAlias | TransitionModelVersionStage;

export type ModelCommand = RegisterModel | CreateModelVersion | ModelPointerCommand | DeleteModelVersion;
