import type { KeyValue } from '../shared/validation.js';
import type { LoggedModelStatus } from './events.js';

export type CreateLoggedModel = {
  type: 'CreateLoggedModel';
  data: {
    modelId: string;
    experimentId: string;
    name: string;
    modelType: string;
    sourceRunId: string | null;
    filesRunId: string;
    artifactPath: string;
    params: KeyValue[];
    tags: KeyValue[];
    at: number;
  };
};
export type FinalizeLoggedModel = { type: 'FinalizeLoggedModel'; data: { modelId: string; status: LoggedModelStatus; at: number } };
export type SetLoggedModelTags = { type: 'SetLoggedModelTags'; data: { modelId: string; tags: KeyValue[]; at: number } };
export type DeleteLoggedModelTag = { type: 'DeleteLoggedModelTag'; data: { modelId: string; key: string; at: number } };
export type LogLoggedModelParams = { type: 'LogLoggedModelParams'; data: { modelId: string; params: KeyValue[]; at: number } };
export type LogLoggedModelOutput = { type: 'LogLoggedModelOutput'; data: { modelId: string; runId: string; step: number; at: number } };
export type DeleteLoggedModel = { type: 'DeleteLoggedModel'; data: { modelId: string; at: number } };

export type LoggedModelCommand =
  | CreateLoggedModel
  | FinalizeLoggedModel
  | SetLoggedModelTags
  | DeleteLoggedModelTag
  | LogLoggedModelParams
  | LogLoggedModelOutput
  | DeleteLoggedModel;
