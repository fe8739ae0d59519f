import { describe, expect, it } from 'vitest';
import { ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { EnvironmentCommand } from './commands.js';
import { decideEnvironment, evolveEnvironment, initialEnvironment } from './decider.js';
import type { EnvironmentEvent } from './events.js';

const given = (...past: EnvironmentEvent[]) => ({
  when: (cmd: EnvironmentCommand) => decideEnvironment(cmd, past.reduce(evolveEnvironment, initialEnvironment())),
  state: () => past.reduce(evolveEnvironment, initialEnvironment()),
});

const target = { kind: 'webhook' as const, url: 'http://deploy.example/hook', secret: 's'.repeat(32), timeoutMs: 1000, maxAttempts: 3 };
const created = given().when({ type: 'CreateEnvironment', data: { name: 'prod', target, healthCheck: null, at: 1 } })[0]!;
const version = (v: number) => ({ model: 'churn', version: v, sha256: String(v).repeat(64).slice(0, 64), artifactPath: 'model.pkl' });
const request = (id: string, v: number): EnvironmentCommand => ({
  type: 'RequestDeployment',
  data: { environment: 'prod', deploymentId: id, version: version(v), requested: { model: 'churn', version: v }, reason: 'ship it', at: 2 },
});
const started = (id: string): EnvironmentEvent => ({ type: 'DeploymentStarted', data: { environment: 'prod', deploymentId: id, at: 3 } });
const succeeded = (id: string): EnvironmentEvent => ({ type: 'DeploymentSucceeded', data: { environment: 'prod', deploymentId: id, at: 4 } });
const failed = (id: string, outcome: 'failed' | 'timed_out' = 'failed'): EnvironmentEvent => ({
  type: 'DeploymentFailed',
  data: { environment: 'prod', deploymentId: id, outcome, error: 'boom', at: 4 },
});
const requested = (id: string, v: number, past: EnvironmentEvent[]) => given(...past).when(request(id, v))[0]!;
const d1 = requested('d1', 1, [created]);
const live1 = [created, d1, started('d1'), succeeded('d1')];
const d2 = requested('d2', 2, live1);
const live2 = [...live1, d2, started('d2'), succeeded('d2')];
const rollback = (id: string, opts: { to?: string; afterFailureOf?: string } = {}): EnvironmentCommand => ({
  type: 'RequestRollback',
  data: { environment: 'prod', deploymentId: id, toDeploymentId: opts.to, afterFailureOf: opts.afterFailureOf, reason: undefined, at: 5 },
});

describe('environments', () => {
  it('refuses a second environment of the same name, and bad targets', () => {
    expect(() => given(created).when({ type: 'CreateEnvironment', data: { name: 'prod', target, healthCheck: null, at: 1 } })).toThrow(ConcurrencyConflict);
    expect(() => given().when({ type: 'CreateEnvironment', data: { name: 'prod', target: { ...target, url: 'ftp://x' }, healthCheck: null, at: 1 } })).toThrow(
      ValidationFailed,
    );
    expect(() =>
      given().when({ type: 'CreateEnvironment', data: { name: 'prod', target: { kind: 'command', argv: [], timeoutMs: 10 }, healthCheck: null, at: 1 } }),
    ).toThrow(ValidationFailed);
    expect(() => given().when({ type: 'CreateEnvironment', data: { name: 'a b', target, healthCheck: null, at: 1 } })).toThrow(ValidationFailed);
  });
});

describe('the deployment state machine', () => {
  it('records the version, its content hash and the reason', () =>
    expect(d1.data).toMatchObject({ deploymentId: 'd1', model: 'churn', version: 1, sha256: version(1).sha256, reason: 'ship it', rollbackOf: null }));
  it('refuses a version that does not exist, and an unknown environment', () => {
    const missing = { ...request('d9', 9), data: { ...request('d9', 9).data, version: null } } as EnvironmentCommand;
    expect(() => given(created).when(missing)).toThrow(NotFound);
    expect(() => given().when(request('d1', 1))).toThrow(NotFound);
  });
  it('allows one deployment at a time', () => {
    expect(() => given(created, d1).when(request('d2', 2))).toThrow(IllegalTransition);
    expect(() => given(created, d1, started('d1')).when(request('d2', 2))).toThrow(IllegalTransition);
  });
  it('goes requested → started → succeeded | failed | timed_out, each step once', () => {
    expect(given(created, d1).when({ type: 'StartDeployment', data: { environment: 'prod', deploymentId: 'd1', at: 3 } })).toEqual([started('d1')]);
    expect(() => given(created, d1, started('d1')).when({ type: 'StartDeployment', data: { environment: 'prod', deploymentId: 'd1', at: 3 } })).toThrow(
      IllegalTransition,
    );
    expect(() =>
      given(created, d1).when({ type: 'FinishDeployment', data: { environment: 'prod', deploymentId: 'd1', outcome: 'succeeded', error: null, at: 4 } }),
    ).toThrow(IllegalTransition);
    expect(
      given(created, d1, started('d1')).when({ type: 'FinishDeployment', data: { environment: 'prod', deploymentId: 'd1', outcome: 'timed_out', error: 'hung', at: 4 } }),
    ).toEqual([{ type: 'DeploymentFailed', data: { environment: 'prod', deploymentId: 'd1', outcome: 'timed_out', error: 'hung', at: 4 } }]);
    expect(given(...live1).state().deployments[0]!.status).toBe('succeeded');
  });
  it('keeps only the last 4 KB of an attempt output', () => {
    const [e] = given(created, d1, started('d1')).when({
      type: 'RecordDeploymentAttempt',
      data: { environment: 'prod', deploymentId: 'd1', attempt: 1, phase: 'deploy', statusCode: null, exitCode: 0, durationMs: 5, error: null, output: 'x'.repeat(5000) + 'END', at: 3 },
    });
    expect((e!.data as { output: string }).output).toHaveLength(4096);
    expect((e!.data as { output: string }).output.endsWith('END')).toBe(true);
  });
});

describe('rollback target selection', () => {
  it('rolls back to the previous successful deployment by default', () => {
    const [e] = given(...live2).when(rollback('r1'));
    expect(e!.data).toMatchObject({ version: 1, rollbackOf: 'd2', restores: 'd1', reason: 'rollback of d2 to d1' });
  });
  it('rolls back to any earlier successful deployment, never to a failed or the live one', () => {
    const d3 = requested('d3', 3, live2);
    const past = [...live2, d3, started('d3'), failed('d3')];
    expect(given(...past).when(rollback('r1', { to: 'd1' }))[0]!.data).toMatchObject({ version: 1, restores: 'd1', rollbackOf: 'd2' });
    expect(() => given(...past).when(rollback('r1', { to: 'd3' }))).toThrow(IllegalTransition);
    expect(() => given(...past).when(rollback('r1', { to: 'd2' }))).toThrow(IllegalTransition);
    expect(() => given(...past).when(rollback('r1', { to: 'nope' }))).toThrow(NotFound);
  });
  it('marks the undone deployment rolled back once the rollback succeeds', () => {
    const r1 = given(...live2).when(rollback('r1'))[0]!;
    const state = given(...live2, r1, started('r1'), succeeded('r1')).state();
    expect(state.deployments.map((d) => [d.id, d.status])).toEqual([
      ['d1', 'succeeded'],
      ['d2', 'rolled_back'],
      ['r1', 'succeeded'],
    ]);
  });
  it('refuses a rollback with nothing earlier to restore', () => expect(() => given(...live1).when(rollback('r1'))).toThrow(IllegalTransition));
  it('after a failure, restores the live deployment with an explanatory reason', () => {
    const d3 = requested('d3', 3, live2);
    const [e] = given(...live2, d3, started('d3'), failed('d3', 'timed_out')).when(rollback('r1', { afterFailureOf: 'd3' }));
    expect(e!.data).toMatchObject({ version: 2, restores: 'd2', rollbackOf: 'd3', reason: 'automatic rollback after d3 failed' });
  });
  it('does not roll back a failed first deployment, nor a failed rollback', () => {
    expect(given(created, d1, started('d1'), failed('d1')).when(rollback('r1', { afterFailureOf: 'd1' }))).toEqual([]);
    const r1 = given(...live2).when(rollback('r1'))[0]!;
    expect(given(...live2, r1, started('r1'), failed('r1')).when(rollback('r2', { afterFailureOf: 'r1' }))).toEqual([]);
  });
});
