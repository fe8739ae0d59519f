import type { KeyValue } from '../shared/validation.js';

export type CreateExperiment = {
  type: 'CreateExperiment';
  data: { experimentId: string; name: string; description: string; tags: KeyValue[]; at: number };
};
export type DeleteExperiment = { type: 'DeleteExperiment'; data: { experimentId: string; at: number } };
export type RestoreExperiment = { type: 'RestoreExperiment'; data: { experimentId: string; at: number } };
export type SetExperimentTags = { type: 'SetExperimentTags'; data: { experimentId: string; tags: KeyValue[] } };
export type DescribeExperiment = { type: 'DescribeExperiment'; data: { experimentId: string; description: string } };

/** The handler claims the new name and releases the old one in the same append. */
export type RenameExperiment = { type: 'RenameExperiment'; data: { experimentId: string; name: string } };
export type ExperimentCommand =
  | CreateExperiment
  | DeleteExperiment
  | RestoreExperiment
  | SetExperimentTags
  | DescribeExperiment
  | RenameExperiment;
