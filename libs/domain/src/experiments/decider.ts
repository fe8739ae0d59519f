import { assertNever, IllegalTransition, NotFound, ConcurrencyConflict } from '../errors.js';
import type { Decider } from '../shared/decider.js';
import {
  MAX_NAME_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  validateKey,
  validateText,
  type KeyValue,
} from '../shared/validation.js';
import type { ExperimentCommand } from './commands.js';
import type { ExperimentEvent, ExperimentNameClaimed, ExperimentNameReleased } from './events.js';

export const MAX_DESCRIPTION_LENGTH = 20_000;

export interface Experiment {
  status: 'none' | 'active' | 'deleted';
  experimentId: string;
  name: string;
  tags: Record<string, string>;
}

export const initialExperiment = (): Experiment => ({ status: 'none', experimentId: '', name: '', tags: {} });

export function validateTags(kind: string, tags: readonly KeyValue[]): KeyValue[] {
  return tags.map((t) => ({
    key: validateKey(kind, t.key),
    value: validateText(`${kind} "${t.key}" value`, t.value, MAX_TAG_VALUE_LENGTH, { allowEmpty: true }),
  }));
}

function requireExisting(e: Experiment, experimentId: string): void {
  if (e.status === 'none') throw new NotFound(`experiment ${experimentId} does not exist`, { experimentId });
}

export function decideExperiment(cmd: ExperimentCommand, e: Experiment): ExperimentEvent[] {
  switch (cmd.type) {
    case 'CreateExperiment': {
      const d = cmd.data;
      if (e.status !== 'none')
        throw new ConcurrencyConflict(`experiment ${d.experimentId} already exists`, { experimentId: d.experimentId });
      const name = validateText('experiment name', d.name, MAX_NAME_LENGTH).trim();
      const description = validateText('experiment description', d.description, MAX_DESCRIPTION_LENGTH, {
        allowEmpty: true,
      });
      return [
        {
          type: 'ExperimentCreated',
          data: { experimentId: d.experimentId, name, description, tags: validateTags('tag', d.tags), createdAt: d.at },
        },
      ];
    }
    case 'DeleteExperiment':
      requireExisting(e, cmd.data.experimentId);
      // Deleting twice changes nothing, so a retried delete is harmless.
      return e.status === 'deleted' ? [] : [{ type: 'ExperimentDeleted', data: cmd.data }];
    case 'RestoreExperiment':
      requireExisting(e, cmd.data.experimentId);
      return e.status === 'active' ? [] : [{ type: 'ExperimentRestored', data: cmd.data }];
    case 'SetExperimentTags': {
      requireExisting(e, cmd.data.experimentId);
      if (e.status === 'deleted')
        throw new IllegalTransition(`experiment ${e.name} is deleted; restore it before changing it`);
      const tags = validateTags('tag', cmd.data.tags).filter((t) => e.tags[t.key] !== t.value);
      return tags.length === 0 ? [] : [{ type: 'ExperimentTagsSet', data: { experimentId: e.experimentId, tags } }];
    }
    case 'RenameExperiment': {
      requireExisting(e, cmd.data.experimentId);
      if (e.status === 'deleted')
        throw new IllegalTransition(`experiment ${e.name} is deleted; restore it before renaming it`);
      const name = validateText('experiment name', cmd.data.name, MAX_NAME_LENGTH).trim();
      return name === e.name ? [] : [{ type: 'ExperimentRenamed', data: { experimentId: e.experimentId, name, previousName: e.name } }];
    }
    case 'DescribeExperiment': {
      requireExisting(e, cmd.data.experimentId);
      const description = validateText('experiment description', cmd.data.description, MAX_DESCRIPTION_LENGTH, {
        allowEmpty: true,
      });
      return [{ type: 'ExperimentDescribed', data: { experimentId: e.experimentId, description } }];
    }
    default:
      return assertNever(cmd);
  }
}

export function evolveExperiment(e: Experiment, ev: ExperimentEvent): Experiment {
  switch (ev.type) {
    case 'ExperimentCreated':
      return {
        status: 'active',
        experimentId: ev.data.experimentId,
        name: ev.data.name,
        tags: Object.fromEntries(ev.data.tags.map((t) => [t.key, t.value])),
      };
    case 'ExperimentDeleted':
      return { ...e, status: 'deleted' };
    case 'ExperimentRestored':
      return { ...e, status: 'active' };
    case 'ExperimentTagsSet':
      return { ...e, tags: { ...e.tags, ...Object.fromEntries(ev.data.tags.map((t) => [t.key, t.value])) } };
    case 'ExperimentDescribed':
      return e;
    case 'ExperimentRenamed':
      return { ...e, name: ev.data.name };
    default:
      return assertNever(ev);
  }
}

export const experimentDecider: Decider<Experiment, ExperimentCommand, ExperimentEvent> = {
  decide: decideExperiment,
  evolve: evolveExperiment,
  initialState: initialExperiment,
};

/**
 * The name registry: a name stream holds at most one claim at a time. A claim lasts until a
 * rename releases it (names of deleted experiments stay taken, as in MLflow).
 */
export interface NameClaim {
  claimedBy: string | null;
}
export type ExperimentNameCommand =
  | { type: 'ClaimExperimentName'; data: { name: string; experimentId: string } }
  | { type: 'ReleaseExperimentName'; data: { name: string; experimentId: string } };

export const experimentNameDecider: Decider<NameClaim, ExperimentNameCommand, ExperimentNameClaimed | ExperimentNameReleased> = {
  initialState: () => ({ claimedBy: null }),
  decide(cmd, s) {
    if (cmd.type === 'ReleaseExperimentName') {
      if (s.claimedBy !== cmd.data.experimentId)
        throw new ConcurrencyConflict(`the name "${cmd.data.name}" is not held by experiment ${cmd.data.experimentId}`, {
          name: cmd.data.name,
        });
      return [{ type: 'ExperimentNameReleased', data: cmd.data }];
    }
    if (s.claimedBy !== null)
      throw new ConcurrencyConflict(`an experiment named "${cmd.data.name}" already exists`, {
        name: cmd.data.name,
        experimentId: s.claimedBy,
      });
    return [{ type: 'ExperimentNameClaimed', data: cmd.data }];
  },
  evolve: (_s, ev) => ({ claimedBy: ev.type === 'ExperimentNameReleased' ? null : ev.data.experimentId }),
};
