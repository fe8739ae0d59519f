import { describe, expect, it } from 'vitest';
import { ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { ModelCommand } from './commands.js';
import { decideModel, decideModelRename, evolveModel, initialModel, retriedCreation } from './decider.js';
import type { ModelEvent } from './events.js';
import { parseModelRef } from './ref.js';

const state = (...past: ModelEvent[]) => past.reduce(evolveModel, initialModel());
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

describe('descriptions and tags (the MLflow registry API)', () => {
  it('updates descriptions and sets or deletes tags of models and versions', () => {
    expect(given(registered).when({ type: 'UpdateModelDescription', data: { name: 'churn', description: 'new', at: 7 } })).toEqual([
      { type: 'ModelDescriptionUpdated', data: { name: 'churn', description: 'new', at: 7 } },
    ]);
    expect(given(registered).when({ type: 'SetModelTag', data: { name: 'churn', key: 'team', value: 'risk', at: 7 } })[0]!.data).toEqual({
      name: 'churn',
      key: 'team',
      value: 'risk',
      at: 7,
    });
    expect(given(registered, v1).when({ type: 'SetModelVersionTag', data: { name: 'churn', version: 1, key: 'k', value: 'v', at: 7 } })[0]!.type).toBe(
      'ModelVersionTagSet',
    );
    expect(given(registered, v1).when({ type: 'DeleteModelVersionTag', data: { name: 'churn', version: 1, key: 'k', at: 7 } })[0]!.type).toBe(
      'ModelVersionTagDeleted',
    );
  });
  it('refuses tags on unknown versions and invalid keys', () => {
    expect(() => given(registered).when({ type: 'SetModelVersionTag', data: { name: 'churn', version: 4, key: 'k', value: 'v', at: 7 } })).toThrow(
      NotFound,
    );
    expect(() => given(registered).when({ type: 'SetModelTag', data: { name: 'churn', key: '../x', value: 'v', at: 7 } })).toThrow(ValidationFailed);
  });
});

describe('deleting and renaming models', () => {
  it('deletes a model, freeing its name for a new model that numbers from 1 again', () => {
    const deleted = given(registered, v1, championV1).when({ type: 'DeleteModel', data: { name: 'churn', at: 8 } });
    expect(deleted).toEqual([{ type: 'ModelDeleted', data: { name: 'churn', at: 8 } }]);
    const again = given(registered, v1, ...deleted).when(register)[0]!;
    expect(given(registered, v1, ...deleted, again).when(createVersion())[0]!.data).toMatchObject({ version: 1 });
  });
  it('refuses to delete or rename a deployed model', () => {
    expect(() => given(registered, v1).when({ type: 'DeleteModel', data: { name: 'churn', deployed: ['version 1 in prod'], at: 8 } })).toThrow(
      IllegalTransition,
    );
    expect(() =>
      decideModelRename({ type: 'RenameModel', data: { name: 'churn', newName: 'x', deployed: ['version 1 in prod'], at: 8 } }, state(registered, v1), initialModel()),
    ).toThrow(IllegalTransition);
  });
  it('renames: the old stream frees the name, the new one carries versions, stages and aliases on', () => {
    const old = state(registered, v1, v2, championV1);
    const { from, to } = decideModelRename({ type: 'RenameModel', data: { name: 'churn', newName: 'attrition', at: 9 } }, old, initialModel());
    expect(from).toEqual([{ type: 'ModelRenamed', data: { name: 'churn', newName: 'attrition', at: 9 } }]);
    const moved = to.reduce(evolveModel, initialModel());
    expect(moved).toMatchObject({ name: 'attrition', registered: true, lastVersion: 2, aliases: { champion: 1 } });
    expect(moved.versions[2]).toEqual({ stage: 'None', deleted: false, runId: 'r2' });
    expect(from.reduce(evolveModel, old).registered).toBe(false);
    expect(decideModel({ ...createVersion(), data: { ...createVersion().data, name: 'attrition' } } as ModelCommand, moved)[0]!.data).toMatchObject({
      name: 'attrition',
      version: 3,
    });
  });
  it('refuses a taken new name and a gated model', () => {
    expect(() => decideModelRename({ type: 'RenameModel', data: { name: 'churn', newName: 'other', at: 9 } }, state(registered), state(registered))).toThrow(
      ConcurrencyConflict,
    );
    expect(() =>
      decideModelRename({ type: 'RenameModel', data: { name: 'churn', newName: 'other', gated: true, at: 9 } }, state(registered), initialModel()),
    ).toThrow(/promotion gates/);
  });
});

describe('blind retries (no idempotency key)', () => {
  const retry = { fingerprint: 'f1', withinMs: 600_000 };
  const withRetry = (at: number, fingerprint = 'f1'): ModelCommand => ({
    type: 'CreateModelVersion',
    data: { ...(createVersion().data as object), at, retry: { fingerprint, withinMs: 600_000 } } as never,
  });
  it('answers a repeated request within the window with the version it made, and writes nothing', () => {
    const first = given(registered).when(withRetry(1_000))[0]!;
    expect(first.data).toMatchObject({ version: 1, requestFingerprint: 'f1' });
    const after = state(registered, first);
    expect(decideModel(withRetry(5_000), after)).toEqual([]);
    expect(retriedCreation(after, retry, 5_000)).toBe(1);
  });
  it('creates a new version when the client received the first answer: the same request again is meant', () => {
    const first = given(registered).when(withRetry(1_000))[0]!;
    const delivered: ModelCommand = { ...withRetry(5_000), data: { ...(withRetry(5_000).data as object), retry: { ...retry, delivered: [1] } } as never };
    expect(decideModel(delivered, state(registered, first))[0]!.data).toMatchObject({ version: 2 });
  });
  it('creates a new version for another request, after the window, or once the first was deleted', () => {
    const first = given(registered).when(withRetry(1_000))[0]!;
    expect(decideModel(withRetry(5_000, 'f2'), state(registered, first))[0]!.data).toMatchObject({ version: 2 });
    expect(decideModel(withRetry(1_000 + 600_001), state(registered, first))[0]!.data).toMatchObject({ version: 2 });
    const gone: ModelEvent = { type: 'ModelVersionDeleted', data: { name: 'churn', version: 1, at: 2_000 } };
    expect(decideModel(withRetry(5_000), state(registered, first, gone))[0]!.data).toMatchObject({ version: 2 });
  });
  it('answers a repeated registration of a model with no error', () => {
    const reg = (at: number, fingerprint: string): ModelCommand => ({ type: 'RegisterModel', data: { ...register.data, at, retry: { fingerprint, withinMs: 600_000 } } as never });
    const first = given().when(reg(1, 'r'))[0]!;
    expect(given(first).when(reg(2, 'r'))).toEqual([]);
    expect(() => given(first).when(reg(2, 'other'))).toThrow(ConcurrencyConflict);
    const deliveredReg: ModelCommand = { type: 'RegisterModel', data: { ...register.data, at: 2, retry: { fingerprint: 'r', withinMs: 600_000, delivered: [0] } } as never };
    expect(() => given(first).when(deliveredReg)).toThrow(ConcurrencyConflict);
    expect(() => given(first).when(register)).toThrow(ConcurrencyConflict);
  });
});
