import { describe, expect, it } from 'vitest';
import { ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { ModelCommand } from './commands.js';
import { decideModel, evolveModel, initialModel } from './decider.js';
import type { ModelEvent } from './events.js';
import { parseModelRef } from './ref.js';

const given = (...past: ModelEvent[]) => ({
  when: (cmd: ModelCommand) => decideModel(cmd, past.reduce(evolveModel, initialModel())),
});

const card = { intendedUse: 'churn scoring', limitations: 'EU only', trainingData: 'crm-2024', evaluation: 'auc 0.91', owners: ['ana'] };
const register: ModelCommand = { type: 'RegisterModel', data: { name: 'churn', description: 'd', tags: [], card, at: 1 } };
const registered = given().when(register)[0]!;
const createVersion = (runId = 'r1'): ModelCommand => ({
  type: 'CreateModelVersion',
  data: { name: 'churn', runId, artifactPath: 'model.pkl', artifact: { sha256: 'a'.repeat(64), size: 10 }, format: 'pickle', signature: null, description: '', at: 2 },
});
const v1 = given(registered).when(createVersion())[0]!;
const v2 = given(registered, v1).when(createVersion('r2'))[0]!;
const setAlias = (version: number, expectedCurrentVersion?: number | null): ModelCommand => ({
  type: 'SetModelAlias',
  data: { name: 'churn', alias: 'champion', version, expectedCurrentVersion, at: 3 },
});
const championV1 = given(registered, v1).when(setAlias(1))[0]!;
const transition = (version: number, stage: 'Staging' | 'Production' | 'None' | 'Archived', archiveExisting = false): ModelCommand => ({
  type: 'TransitionModelVersionStage',
  data: { name: 'churn', version, stage, archiveExisting, expectedCurrentStage: undefined, at: 4 },
});

describe('registering a model', () => {
  it('records the name, description and model card', () =>
    expect(registered).toEqual({ type: 'ModelRegistered', data: { name: 'churn', description: 'd', tags: [], card, at: 1 } }));
  it('refuses a name already taken', () => expect(() => given(registered).when(register)).toThrow(ConcurrencyConflict));
  it('refuses names that would break references', () => {
    for (const name of ['a@b', 'a/b', '', '-x'])
      expect(() => given().when({ type: 'RegisterModel', data: { ...register.data, name } } as ModelCommand)).toThrow(ValidationFailed);
  });
});

describe('versions', () => {
  it('numbers versions 1, 2, 3 from the last one, pointing at the artifact hash', () => {
    expect(v1.data).toMatchObject({ version: 1, runId: 'r1', sha256: 'a'.repeat(64), size: 10 });
    expect(v2.data).toMatchObject({ version: 2 });
  });
  it('never reuses the number of a deleted version', () => {
    const deleted: ModelEvent = { type: 'ModelVersionDeleted', data: { name: 'churn', version: 2, at: 5 } };
    expect(given(registered, v1, v2, deleted).when(createVersion())[0]!.data).toMatchObject({ version: 3 });
  });
  it('refuses a run artifact that does not exist, and an unknown model', () => {
    const missing = { ...createVersion(), data: { ...createVersion().data, artifact: null } } as ModelCommand;
    expect(() => given(registered).when(missing)).toThrow(NotFound);
    expect(() => given().when(createVersion())).toThrow(NotFound);
  });
  it('refuses to delete a version that holds an alias', () =>
    expect(() => given(registered, v1, championV1).when({ type: 'DeleteModelVersion', data: { name: 'churn', version: 1, at: 5 } })).toThrow(
      IllegalTransition,
    ));
  it('deletes a version without alias', () =>
    expect(given(registered, v1, v2, championV1).when({ type: 'DeleteModelVersion', data: { name: 'churn', version: 2, at: 5 } })).toEqual([
      { type: 'ModelVersionDeleted', data: { name: 'churn', version: 2, at: 5 } },
    ]));
});

describe('aliases', () => {
  it('sets an alias, remembering the previous holder', () => {
    expect(championV1.data).toEqual({ name: 'churn', alias: 'champion', version: 1, previousVersion: null, at: 3 });
    expect(given(registered, v1, v2, championV1).when(setAlias(2))[0]!.data).toMatchObject({ version: 2, previousVersion: 1 });
  });
  it('does nothing when the alias already points there', () => expect(given(registered, v1, championV1).when(setAlias(1))).toEqual([]));
  it('compares and sets: a stale expected holder is a conflict', () => {
    expect(given(registered, v1, v2, championV1).when(setAlias(2, 1))).toHaveLength(1);
    expect(() => given(registered, v1, v2, championV1).when(setAlias(2, null))).toThrow(ConcurrencyConflict);
    expect(given(registered, v1, v2).when(setAlias(2, null))).toHaveLength(1);
    expect(() => given(registered, v1, v2).when(setAlias(2, 1))).toThrow(/held by no version, not version 1/);
  });
  it('refuses an unknown or deleted version and bad alias names', () => {
    expect(() => given(registered, v1).when(setAlias(7))).toThrow(NotFound);
    expect(() =>
      given(registered, v1).when({ type: 'SetModelAlias', data: { name: 'churn', alias: '3', version: 1, expectedCurrentVersion: undefined, at: 3 } }),
    ).toThrow(ValidationFailed);
  });
  it('removes an alias', () => {
    expect(
      given(registered, v1, championV1).when({ type: 'RemoveModelAlias', data: { name: 'churn', alias: 'champion', expectedCurrentVersion: 1, at: 6 } }),
    ).toEqual([{ type: 'ModelAliasRemoved', data: { name: 'churn', alias: 'champion', version: 1, at: 6 } }]);
    expect(() =>
      given(registered, v1).when({ type: 'RemoveModelAlias', data: { name: 'churn', alias: 'champion', expectedCurrentVersion: undefined, at: 6 } }),
    ).toThrow(NotFound);
  });
});

describe('stages', () => {
  const v1Prod = given(registered, v1).when(transition(1, 'Production'))[0]!;
  it('moves a version between stages', () =>
    expect(v1Prod.data).toEqual({ name: 'churn', version: 1, fromStage: 'None', toStage: 'Production', at: 4 }));
  it('lets many versions share a stage unless archiveExisting', () => {
    expect(given(registered, v1, v2, v1Prod).when(transition(2, 'Production'))).toHaveLength(1);
    expect(given(registered, v1, v2, v1Prod).when(transition(2, 'Production', true)).map((e) => e.data)).toEqual([
      { name: 'churn', version: 2, fromStage: 'None', toStage: 'Production', at: 4 },
      { name: 'churn', version: 1, fromStage: 'Production', toStage: 'Archived', at: 4 },
    ]);
  });
  it('compares and sets on the current stage', () =>
    expect(() =>
      given(registered, v1, v1Prod).when({
        type: 'TransitionModelVersionStage',
        data: { name: 'churn', version: 1, stage: 'Archived', archiveExisting: false, expectedCurrentStage: 'Staging', at: 4 },
      }),
    ).toThrow(ConcurrencyConflict));
});

describe('model references', () => {
  it('parses alias, stage and version references', () => {
    expect(parseModelRef('churn@champion')).toEqual({ name: 'churn', kind: 'alias', alias: 'champion' });
    expect(parseModelRef('churn/production')).toEqual({ name: 'churn', kind: 'stage', stage: 'Production' });
    expect(parseModelRef('churn/3')).toEqual({ name: 'churn', kind: 'version', version: 3 });
    expect(() => parseModelRef('churn')).toThrow(ValidationFailed);
  });
});
