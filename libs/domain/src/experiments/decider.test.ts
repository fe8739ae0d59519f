import { describe, expect, it } from 'vitest';
import { ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { ExperimentCommand } from './commands.js';
import { decideExperiment, evolveExperiment, experimentNameDecider, initialExperiment } from './decider.js';
import type { ExperimentEvent } from './events.js';

const given = (...past: ExperimentEvent[]) => ({
  when: (cmd: ExperimentCommand) => decideExperiment(cmd, past.reduce(evolveExperiment, initialExperiment())),
});
const create: ExperimentCommand = {
  type: 'CreateExperiment',
  data: { experimentId: 'e1', name: '  churn  ', description: 'why', tags: [{ key: 'team', value: 'growth' }], at: 5 },
};
const created = given().when(create)[0]!;
const deleted: ExperimentEvent = { type: 'ExperimentDeleted', data: { experimentId: 'e1', at: 6 } };

describe('experiments', () => {
  it('creates with a trimmed name, description and tags', () =>
    expect(created).toEqual({
      type: 'ExperimentCreated',
      data: { experimentId: 'e1', name: 'churn', description: 'why', tags: [{ key: 'team', value: 'growth' }], createdAt: 5 },
    }));
  it('refuses an empty name', () =>
    expect(() => given().when({ type: 'CreateExperiment', data: { ...(create as Extract<ExperimentCommand, { type: 'CreateExperiment' }>).data, name: ' ' } })).toThrow(
      ValidationFailed,
    ));
  it('refuses creating twice', () => expect(() => given(created).when(create)).toThrow(ConcurrencyConflict));
  it('deletes and restores, idempotently', () => {
    expect(given(created).when({ type: 'DeleteExperiment', data: { experimentId: 'e1', at: 6 } })).toEqual([deleted]);
    expect(given(created, deleted).when({ type: 'DeleteExperiment', data: { experimentId: 'e1', at: 7 } })).toEqual([]);
    expect(given(created, deleted).when({ type: 'RestoreExperiment', data: { experimentId: 'e1', at: 8 } })).toHaveLength(1);
  });
  it('refuses to touch a missing experiment', () =>
    expect(() => given().when({ type: 'DeleteExperiment', data: { experimentId: 'e9', at: 1 } })).toThrow(NotFound));
  it('refuses tagging a deleted experiment', () =>
    expect(() =>
      given(created, deleted).when({ type: 'SetExperimentTags', data: { experimentId: 'e1', tags: [{ key: 'a', value: 'b' }] } }),
    ).toThrow(IllegalTransition));
});

describe('experiment names', () => {
  const claim = { type: 'ClaimExperimentName' as const, data: { name: 'churn', experimentId: 'e1' } };
  it('claims a free name', () =>
    expect(experimentNameDecider.decide(claim, experimentNameDecider.initialState())).toEqual([
      { type: 'ExperimentNameClaimed', data: claim.data },
    ]));
  it('refuses a taken name with a conflict', () =>
    expect(() => experimentNameDecider.decide(claim, { claimedBy: 'e0' })).toThrow(/already exists/));
});

describe('renaming', () => {
  const rename = (name: string): ExperimentCommand => ({ type: 'RenameExperiment', data: { experimentId: 'e1', name } });
  it('records the new and the previous name; the same name is a no-op', () => {
    expect(given(created).when(rename(' retention '))).toEqual([
      { type: 'ExperimentRenamed', data: { experimentId: 'e1', name: 'retention', previousName: 'churn' } },
    ]);
    expect(given(created).when(rename('churn'))).toEqual([]);
  });
  it('refuses a deleted or missing experiment', () => {
    expect(() => given(created, deleted).when(rename('x'))).toThrow(IllegalTransition);
    expect(() => given().when(rename('x'))).toThrow(NotFound);
  });
  it('frees a released name for a new claim, and only its holder may release it', () => {
    const claim = { type: 'ClaimExperimentName' as const, data: { name: 'churn', experimentId: 'e2' } };
    const release = { type: 'ReleaseExperimentName' as const, data: { name: 'churn', experimentId: 'e1' } };
    const [released] = experimentNameDecider.decide(release, { claimedBy: 'e1' });
    const after = experimentNameDecider.evolve({ claimedBy: 'e1' }, released!);
    expect(after).toEqual({ claimedBy: null });
    expect(experimentNameDecider.decide(claim, after)).toHaveLength(1);
    expect(() => experimentNameDecider.decide(release, { claimedBy: 'e9' })).toThrow(ConcurrencyConflict);
  });
});
