import { describe, expect, it } from 'vitest';
import { ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { LoggedModelCommand } from './commands.js';
import { decideLoggedModel, evolveLoggedModel, initialLoggedModel } from './decider.js';
import type { LoggedModelEvent } from './events.js';

const id = `m-${'a'.repeat(32)}`;
const given = (...past: LoggedModelEvent[]) => ({
  when: (cmd: LoggedModelCommand) => decideLoggedModel(cmd, past.reduce(evolveLoggedModel, initialLoggedModel())),
});
const create: LoggedModelCommand = {
  type: 'CreateLoggedModel',
  data: {
    modelId: id,
    experimentId: '0',
    name: 'model',
    modelType: '',
    sourceRunId: 'r1',
    filesRunId: 'r1',
    artifactPath: `models/${id}`,
    params: [{ key: 'alpha', value: '0.5' }],
    tags: [],
    at: 1,
  },
};
const created = given().when(create)[0]!;
const finalize = (status: 'READY' | 'FAILED' | 'PENDING'): LoggedModelCommand => ({ type: 'FinalizeLoggedModel', data: { modelId: id, status, at: 2 } });

describe('logged models', () => {
  it('creates once, with an MLflow id', () => {
    expect(created.data).toMatchObject({ modelId: id, filesRunId: 'r1', params: [{ key: 'alpha', value: '0.5' }] });
    expect(() => given(created).when(create)).toThrow(ConcurrencyConflict);
    expect(() => given().when({ ...create, data: { ...create.data, modelId: 'nope' } } as LoggedModelCommand)).toThrow(ValidationFailed);
  });
  it('finalizes PENDING to READY once; a repeat is a no-op, a change of mind is refused', () => {
    const ready = given(created).when(finalize('READY'))[0]!;
    expect(ready).toEqual({ type: 'LoggedModelFinalized', data: { modelId: id, status: 'READY', at: 2 } });
    expect(given(created, ready).when(finalize('READY'))).toEqual([]);
    expect(() => given(created, ready).when(finalize('FAILED'))).toThrow(IllegalTransition);
    expect(() => given(created).when(finalize('PENDING'))).toThrow(ValidationFailed);
  });
  it('logs new params only and refuses to change one', () => {
    const more: LoggedModelCommand = { type: 'LogLoggedModelParams', data: { modelId: id, params: [{ key: 'alpha', value: '0.5' }, { key: 'beta', value: '1' }], at: 3 } };
    expect(given(created).when(more)[0]!.data).toMatchObject({ params: [{ key: 'beta', value: '1' }] });
    expect(() =>
      given(created).when({ type: 'LogLoggedModelParams', data: { modelId: id, params: [{ key: 'alpha', value: '0.7' }], at: 3 } }),
    ).toThrow(/cannot change/);
  });
  it('records an output of a run at a step once', () => {
    const out: LoggedModelCommand = { type: 'LogLoggedModelOutput', data: { modelId: id, runId: 'r1', step: 0, at: 3 } };
    const logged = given(created).when(out)[0]!;
    expect(given(created, logged).when(out)).toEqual([]);
  });
  it('refuses anything on a deleted or unknown model', () => {
    const deleted = given(created).when({ type: 'DeleteLoggedModel', data: { modelId: id, at: 4 } })[0]!;
    expect(() => given(created, deleted).when(finalize('READY'))).toThrow(NotFound);
    expect(() => given().when(finalize('READY'))).toThrow(NotFound);
  });
});
