import type { DomainEvent } from '../shared/decider.js';

/** One stream per dataset name: creating it with `no_stream` keeps names unique, and its revision orders commits. */
export const datasetStream = (name: string) => `dataset-${name}`;

/** A dataset version's stable identifier across the API: `<dataset>@<version>`. */
export const datasetVersionId = (name: string, version: number) => `${name}@${version}`;

/** Header and row count of one CSV file of a version, computed by the server from the stored bytes. */
export interface TabularSummary {
  path: string;
  columns: string[];
  rows: number;
}

/**
 * What the event says about a version's files. The manifest itself (one line per file) is a
 * content-addressed blob: a commit of 100k files stays a small event.
 */
export interface ManifestFact {
  sha256: string;
  fileCount: number;
  totalBytes: number;
  tabular: TabularSummary[];
}

export type DatasetCreated = DomainEvent<'DatasetCreated', { name: string; description: string; at: number }>;
export type DatasetVersionCommitted = DomainEvent<
  'DatasetVersionCommitted',
  {
    name: string;
    version: number;
    versionId: string;
    parentVersion: number | null;
    manifestSha256: string;
    fileCount: number;
    totalBytes: number;
    tabular: TabularSummary[];
    message: string;
    author: string;
    tags: string[];
    at: number;
  }
>;
export type DatasetVersionTagged = DomainEvent<'DatasetVersionTagged', { name: string; version: number; tag: string; at: number }>;
export type DatasetVersionDeprecated = DomainEvent<
  'DatasetVersionDeprecated',
  { name: string; version: number; reason: string; at: number }
>;

export type DatasetEvent = DatasetCreated | DatasetVersionCommitted | DatasetVersionTagged | DatasetVersionDeprecated;
