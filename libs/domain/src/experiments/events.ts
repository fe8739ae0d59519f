import type { DomainEvent } from '../shared/decider.js';
import type { KeyValue } from '../shared/validation.js';

export const experimentStream = (experimentId: string) => `experiment-${experimentId}`;
/** One stream per name: claiming it with "no stream yet" is what makes names unique. */
export const experimentNameStream = (name: string) => `experiment-name-${name}`;

export type ExperimentCreated = DomainEvent<
  'ExperimentCreated',
  { experimentId: string; name: string; description: string; tags: KeyValue[]; createdAt: number }
>;
export type ExperimentDeleted = DomainEvent<'ExperimentDeleted', { experimentId: string; at: number }>;
export type ExperimentRestored = DomainEvent<'ExperimentRestored', { experimentId: string; at: number }>;
export type ExperimentTagsSet = DomainEvent<'ExperimentTagsSet', { experimentId: string; tags: KeyValue[] }>;
export type ExperimentDescribed = DomainEvent<'ExperimentDescribed', { experimentId: string; description: string }>;

export type ExperimentRenamed = DomainEvent<'ExperimentRenamed', { experimentId: string; name: string; previousName: string }>;
export type ExperimentEvent =
  | ExperimentCreated
  | ExperimentDeleted
  | ExperimentRestored
  | ExperimentTagsSet
  | ExperimentDescribed
  | ExperimentRenamed;

export type ExperimentNameClaimed = DomainEvent<'ExperimentNameClaimed', { name: string; experimentId: string }>;
/** A rename frees the old name: the claim ends and the name may be claimed again. */
export type ExperimentNameReleased = DomainEvent<'ExperimentNameReleased', { name: string; experimentId: string }>;
