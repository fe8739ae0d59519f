import type { ManifestFact } from './events.js';

export type CreateDataset = { type: 'CreateDataset'; data: { name: string; description: string; at: number } };
export type CommitDatasetVersion = {
  type: 'CommitDatasetVersion';
  data: {
    name: string;
    /** The head the committer built on (null: the first version). A stale parent is a conflict, never a silent merge. */
    parentVersion: number | null;
    manifest: ManifestFact;
    message: string;
    author: string;
    tags: string[];
    at: number;
  };
};
export type TagDatasetVersion = { type: 'TagDatasetVersion'; data: { name: string; version: number; tag: string; at: number } };
export type DeprecateDatasetVersion = {
  type: 'DeprecateDatasetVersion';
  data: { name: string; version: number; reason: string; at: number };
};

export type DatasetCommand = CreateDataset | CommitDatasetVersion | TagDatasetVersion | DeprecateDatasetVersion;
