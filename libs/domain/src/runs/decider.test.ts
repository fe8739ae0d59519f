import { describe, expect, it } from 'vitest';
import { ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { RunCommand, StartRun } from './commands.js';
import { decideRun, evolveRun, initialRun } from './decider.js';
import type { RunEvent } from './events.js';

const given = (...past: RunEvent[]) => ({
  when: (cmd: RunCommand) => decideRun(cmd, past.reduce(evolveRun, initialRun())),
});

const startData: StartRun['data'] = {
  runId: 'r1',
  name: 'baseline',
  tags: [{ key: 'team', value: 'vision' }],
  parentRunId: null,
  source: { gitCommit: 'abc123', entryPoint: 'train.py' },
  environment: { python: '3.11' },
  startTime: 1000,
  experiment: { experimentId: 'e1', status: 'active' },
  parent: null,
};
const start: RunCommand = { type: 'StartRun', data: startData };
const started = given().when(start)[0]!;
const paramsLogged: RunEvent = { type: 'RunParamsLogged', data: { runId: 'r1', params: [{ key: 'lr', value: '0.1' }] } };
const finished: RunEvent = { type: 'RunFinished', data: { runId: 'r1', status: 'FINISHED', endTime: 2000 } };
const deleted: RunEvent = { type: 'RunDeleted', data: { runId: 'r1', at: 3000 } };

describe('starting a run', () => {
  it('records the run with its experiment, source and environment', () => {
    expect(started).toEqual({
      type: 'RunStarted',
      data: {
        runId: 'r1',
        experimentId: 'e1',
        name: 'baseline',
        tags: [{ key: 'team', value: 'vision' }],
        parentRunId: null,
        source: { gitCommit: 'abc123', entryPoint: 'train.py' },
        environment: { python: '3.11' },
        startTime: 1000,
      },
    });
  });
  it('refuses to start a run twice', () => expect(() => given(started).when(start)).toThrow(ConcurrencyConflict));
  it('refuses a missing experiment', () =>
    expect(() => given().when({ type: 'StartRun', data: { ...startData, experiment: null } })).toThrow(NotFound));
  it('refuses a deleted experiment', () =>
    expect(() =>
      given().when({ type: 'StartRun', data: { ...startData, experiment: { experimentId: 'e1', status: 'deleted' } } }),
    ).toThrow(IllegalTransition));
  it('nests under a parent of the same experiment only', () => {
    const nested = { ...startData, parentRunId: 'p1', parent: { runId: 'p1', experimentId: 'e1' } };
    expect(given().when({ type: 'StartRun', data: nested })[0]!.data).toMatchObject({ parentRunId: 'p1' });
    expect(() => given().when({ type: 'StartRun', data: { ...nested, parent: null } })).toThrow(NotFound);
    expect(() =>
      given().when({ type: 'StartRun', data: { ...nested, parent: { runId: 'p1', experimentId: 'e2' } } }),
    ).toThrow(ValidationFailed);
  });
  it('refuses invalid tag keys', () =>
    expect(() =>
      given().when({ type: 'StartRun', data: { ...startData, tags: [{ key: 'bad\u0000key', value: '' }] } }),
    ).toThrow(/may only contain/));
});

describe('params are immutable', () => {
  const log = (key: string, value: string): RunCommand => ({ type: 'LogParams', data: { runId: 'r1', params: [{ key, value }] } });
  it('logs a new param', () =>
    expect(given(started).when(log('lr', '0.1'))).toEqual([paramsLogged]));
  it('accepts the same value again and records nothing', () =>
    expect(given(started, paramsLogged).when(log('lr', '0.1'))).toEqual([]));
  it('refuses a different value, naming both', () =>
    expect(() => given(started, paramsLogged).when(log('lr', '0.2'))).toThrow(/"lr" is already "0.1"/));
  it('refuses one key twice with different values in one batch', () =>
    expect(() =>
      given(started).when({
        type: 'LogParams',
        data: { runId: 'r1', params: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] },
      }),
    ).toThrow(ValidationFailed));
  it('refuses params on a run that does not exist', () => expect(() => given().when(log('a', '1'))).toThrow(NotFound));
  it('refuses params on a deleted run', () =>
    expect(() => given(started, deleted).when(log('a', '1'))).toThrow(IllegalTransition));
});

describe('metrics', () => {
  const logMetrics = (points: { key: string; value: number; step: number; timestamp: number }[]): RunCommand => ({
    type: 'LogMetrics',
    data: { runId: 'r1', points, defaultTimestamp: 99 },
  });
  it('groups a batch by key, keeping NaN and infinities', () => {
    const [ev] = given(started).when(
      logMetrics([
        { key: 'loss', value: 0.5, step: 0, timestamp: 10 },
        { key: 'acc', value: Number.NaN, step: 0, timestamp: 10 },
        { key: 'loss', value: Number.POSITIVE_INFINITY, step: 1, timestamp: 11 },
        { key: 'loss', value: Number.NEGATIVE_INFINITY, step: 2, timestamp: 12 },
      ]),
    );
    expect(ev).toEqual({
      type: 'RunMetricsLogged',
      data: {
        runId: 'r1',
        series: [
          { key: 'loss', steps: [0, 1, 2], values: [0.5, 'Infinity', '-Infinity'], timestamps: [10, 11, 12] },
          { key: 'acc', steps: [0], values: ['NaN'], timestamps: [10] },
        ],
      },
    });
  });
  it('may log to a finished run, as MLflow allows', () =>
    expect(given(started, finished).when(logMetrics([{ key: 'a', value: 1, step: 0, timestamp: 1 }]))).toHaveLength(1));
  it('refuses a fractional step with the offending index', () =>
    expect(() =>
      given(started).when(
        logMetrics([
          { key: 'a', value: 1, step: 0, timestamp: 1 },
          { key: 'a', value: 1, step: 0.5, timestamp: 1 },
        ]),
      ),
    ).toThrow(/point 1: step must be an integer/));
  it('records nothing for an empty batch', () => expect(given(started).when(logMetrics([]))).toEqual([]));
  it('puts points without step or timestamp at step 0 and the default time', () =>
    expect(given(started).when({ type: 'LogMetrics', data: { runId: 'r1', points: [{ key: 'a', value: 1 }], defaultTimestamp: 99 } })).toEqual([
      { type: 'RunMetricsLogged', data: { runId: 'r1', series: [{ key: 'a', steps: [0], values: [1], timestamps: [99] }] } },
    ]));
});

describe('tags', () => {
  it('sets only tags that change', () => {
    const cmd: RunCommand = {
      type: 'SetRunTags',
      data: { runId: 'r1', tags: [{ key: 'team', value: 'vision' }, { key: 'stage', value: 'dev' }] },
    };
    expect(given(started).when(cmd)).toEqual([{ type: 'RunTagsSet', data: { runId: 'r1', tags: [{ key: 'stage', value: 'dev' }] } }]);
  });
  it('deletes an existing tag and refuses a missing one', () => {
    expect(given(started).when({ type: 'DeleteRunTag', data: { runId: 'r1', key: 'team' } })).toHaveLength(1);
    const gone: RunEvent = { type: 'RunTagDeleted', data: { runId: 'r1', key: 'team' } };
    expect(() => given(started, gone).when({ type: 'DeleteRunTag', data: { runId: 'r1', key: 'team' } })).toThrow(NotFound);
  });
});

describe('finishing', () => {
  const finish = (status: 'FINISHED' | 'FAILED' | 'KILLED'): RunCommand => ({
    type: 'FinishRun',
    data: { runId: 'r1', status, endTime: 2000 },
  });
  it('ends a running run', () => expect(given(started).when(finish('FINISHED'))).toEqual([finished]));
  it('treats the same end again as done', () => expect(given(started, finished).when(finish('FINISHED'))).toEqual([]));
  it('refuses to end an ended run differently', () =>
    expect(() => given(started, finished).when(finish('FAILED'))).toThrow(IllegalTransition));
  it('refuses a status that is not terminal', () =>
    expect(() => given(started).when({ type: 'FinishRun', data: { runId: 'r1', status: 'RUNNING' as never, endTime: 1 } })).toThrow(
      ValidationFailed,
    ));
});

describe('delete, restore, move', () => {
  it('soft-deletes and restores; repeats are no-ops', () => {
    expect(given(started).when({ type: 'DeleteRun', data: { runId: 'r1', at: 3000 } })).toEqual([deleted]);
    expect(given(started, deleted).when({ type: 'DeleteRun', data: { runId: 'r1', at: 3001 } })).toEqual([]);
    expect(given(started, deleted).when({ type: 'RestoreRun', data: { runId: 'r1', at: 4000 } })).toEqual([
      { type: 'RunRestored', data: { runId: 'r1', at: 4000 } },
    ]);
    expect(given(started).when({ type: 'RestoreRun', data: { runId: 'r1', at: 4000 } })).toEqual([]);
  });
  it('moves to another active experiment', () => {
    const move = (target: { experimentId: string; status: 'active' | 'deleted' } | null): RunCommand => ({
      type: 'MoveRun',
      data: { runId: 'r1', toExperimentId: 'e2', target },
    });
    expect(given(started).when(move({ experimentId: 'e2', status: 'active' }))).toEqual([
      { type: 'RunMoved', data: { runId: 'r1', fromExperimentId: 'e1', toExperimentId: 'e2' } },
    ]);
    expect(() => given(started).when(move(null))).toThrow(NotFound);
    expect(() => given(started).when(move({ experimentId: 'e2', status: 'deleted' }))).toThrow(IllegalTransition);
    expect(() => given(started, deleted).when(move({ experimentId: 'e2', status: 'active' }))).toThrow(IllegalTransition);
  });
});

describe('artifacts are immutable', () => {
  const sha = (c: string) => c.repeat(64);
  const log = (path: string, sha256: string): RunCommand => ({
    type: 'LogRunArtifact',
    data: { runId: 'r1', path, sha256, size: 3, contentType: 'application/octet-stream' },
  });
  const logged = given(started).when(log('model/weights.bin', sha('a')))[0]!;
  it('logs an artifact', () => expect(logged.type).toBe('RunArtifactLogged'));
  it('accepts the same content again and records nothing', () => expect(given(started, logged).when(log('model/weights.bin', sha('a')))).toEqual([]));
  it('refuses other content under the same path', () =>
    expect(() => given(started, logged).when(log('model/weights.bin', sha('b')))).toThrow(/immutable/));
  it('refuses paths that are absolute or climb out', () => {
    for (const p of ['/etc/passwd', '../x', 'a/../b', 'a//b', './a', ''])
      expect(() => given(started).when(log(p, sha('a')))).toThrow(ValidationFailed);
  });
});

describe('reproductions and source capture', () => {
  const reproduce = (over: Partial<StartRun['data']>): RunCommand => ({
    type: 'StartRun',
    data: { ...startData, runId: 'r2', reproductionOf: 'r1', reproduced: { runId: 'r1' }, ...over },
  });
  it('records which run a reproduction re-runs', () =>
    expect(given().when(reproduce({}))[0]!.data).toMatchObject({ runId: 'r2', reproductionOf: 'r1' }));
  it('leaves ordinary runs without the field, so their events keep their shape', () =>
    expect(Object.keys(started.data)).not.toContain('reproductionOf'));
  it('refuses to reproduce a run that does not exist, or itself', () => {
    expect(() => given().when(reproduce({ reproduced: null }))).toThrow(NotFound);
    expect(() => given().when(reproduce({ runId: 'r1' }))).toThrow(/cannot reproduce itself/);
  });
  it('keeps a dirty diff, the command and where it ran', () => {
    const source = { gitCommit: 'abc', gitDirty: true, gitDiff: 'diff --git a/x b/x\n', gitDiffSha256: 'a'.repeat(64), command: ['node', 'train.mjs'], workingDir: 'ml' };
    expect(given().when({ type: 'StartRun', data: { ...startData, source } })[0]!.data).toMatchObject({ source });
  });
  it('refuses a diff over the limit, a malformed command or a working directory outside the repository', () => {
    const withSource = (source: Record<string, unknown>): RunCommand => ({ type: 'StartRun', data: { ...startData, source: source as never } });
    expect(() => given().when(withSource({ gitDiff: 'x'.repeat(64 * 1024 + 1) }))).toThrow(/larger than/);
    expect(() => given().when(withSource({ command: [] }))).toThrow(ValidationFailed);
    expect(() => given().when(withSource({ command: 'node train.mjs' }))).toThrow(ValidationFailed);
    expect(() => given().when(withSource({ workingDir: '../elsewhere' }))).toThrow(/relative/);
    expect(() => given().when(withSource({ gitDirty: 'yes' }))).toThrow(/boolean/);
    expect(() => given().when(withSource({ gitDiffSha256: 'nothex' }))).toThrow(ValidationFailed);
  });
});

describe('log batch (MLflow log-batch)', () => {
  const batch = (over: Partial<Extract<RunCommand, { type: 'LogBatch' }>['data']> = {}): RunCommand => ({
    type: 'LogBatch',
    data: { runId: 'r1', params: [], tags: [], points: [], defaultTimestamp: 99, ...over },
  });
  it('records params, tags and points in one decision', () => {
    const events = given(started).when(
      batch({ params: [{ key: 'lr', value: '0.1' }], tags: [{ key: 'stage', value: 'dev' }], points: [{ key: 'loss', value: 1, step: 0 }] }),
    );
    expect(events.map((e) => e.type)).toEqual(['RunParamsLogged', 'RunTagsSet', 'RunMetricsLogged']);
  });
  it('renames the run with the mlflow.runName tag, once', () => {
    expect(given(started).when(batch({ name: 'renamed' }))).toEqual([{ type: 'RunRenamed', data: { runId: 'r1', name: 'renamed' } }]);
    expect(given(started).when(batch({ name: 'baseline' }))).toEqual([]);
  });
  it('refuses the whole batch when one param would change', () =>
    expect(() =>
      given(started, paramsLogged).when(batch({ params: [{ key: 'lr', value: '0.2' }], points: [{ key: 'loss', value: 1 }] })),
    ).toThrow(/immutable/));
  it('records nothing for repeats and an empty batch', () => {
    expect(given(started, paramsLogged).when(batch({ params: [{ key: 'lr', value: '0.1' }], tags: [{ key: 'team', value: 'vision' }] }))).toEqual([]);
    expect(given(started).when(batch())).toEqual([]);
  });
  it('refuses a deleted run', () => expect(() => given(started, deleted).when(batch({ points: [{ key: 'a', value: 1 }] }))).toThrow(IllegalTransition));
});

describe('dataset inputs (MLflow log-inputs)', () => {
  const ds = (name: string, digest: string) => ({ name, digest, sourceType: 'code', source: '{}', schema: '', profile: '', tags: [{ key: 'mlflow.data.context', value: 'training' }] });
  const log = (...datasets: ReturnType<typeof ds>[]): RunCommand => ({ type: 'LogRunDatasets', data: { runId: 'r1', datasets } });
  it('logs new datasets and skips ones the run already has, by name and digest', () => {
    const [logged] = given(started).when(log(ds('a', '1'), ds('a', '1')));
    expect(logged).toEqual({ type: 'RunDatasetsLogged', data: { runId: 'r1', datasets: [ds('a', '1')] } });
    expect(given(started, logged!).when(log(ds('a', '1')))).toEqual([]);
    expect(given(started, logged!).when(log(ds('a', '2')))).toHaveLength(1);
  });
  it('refuses a dataset without a name', () => expect(() => given(started).when(log(ds('', '1')))).toThrow(ValidationFailed));
});

describe('logged-model inputs (MLflow 3 log-inputs)', () => {
  const log = (models: string[]): RunCommand => ({ type: 'LogRunDatasets', data: { runId: 'r1', datasets: [], models } });
  it('records each model once', () => {
    const [logged] = given(started).when(log(['m-1', 'm-1', 'm-2']));
    expect(logged).toEqual({ type: 'RunDatasetsLogged', data: { runId: 'r1', datasets: [], models: ['m-1', 'm-2'] } });
    expect(given(started, logged!).when(log(['m-2']))).toEqual([]);
  });
});
