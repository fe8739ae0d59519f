import type { DomainEvent } from '../shared/decider.js';

/**
 * A run's declared inputs and outputs live in their own stream beside the run's: they are
 * appended long after the run's metrics and never depend on its params or status rules.
 */
export const runLineageStream = (runId: string) => `runio-${runId}`;

export const INPUT_ROLES = ['train', 'validation', 'test', 'other'] as const;
export type InputRole = (typeof INPUT_ROLES)[number];

/** A dataset version as the command handler resolved it from a number or tag. */
export interface ResolvedDatasetVersion {
  datasetName: string;
  versionId: string;
  versionNumber: number;
}

export interface RunInput extends ResolvedDatasetVersion {
  role: InputRole;
}

export type RunInputsDeclared = DomainEvent<'RunInputsDeclared', { runId: string; inputs: RunInput[]; at: number }>;
export type RunOutputsDeclared = DomainEvent<'RunOutputsDeclared', { runId: string; outputs: ResolvedDatasetVersion[]; at: number }>;

export type RunLineageEvent = RunInputsDeclared | RunOutputsDeclared;
