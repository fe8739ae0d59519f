import { assertNever, ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import type { Decider } from '../shared/decider.js';
import { validateText } from '../shared/validation.js';
import type { EnvironmentCommand } from './commands.js';
import type { DeployedVersion, DeploymentStatus, DeploymentTarget, EnvironmentEvent, HealthCheck } from './events.js';

export interface DeploymentState extends DeployedVersion {
  id: string;
  status: DeploymentStatus;
  /** A rolled-back deployment was live once: it may be restored again. */
  everSucceeded: boolean;
  rollbackOf: string | null;
}

export interface Environment {
  name: string;
  created: boolean;
  target: DeploymentTarget | null;
  healthCheck: HealthCheck | null;
  /** Oldest first. */
  deployments: DeploymentState[];
}

export const initialEnvironment = (): Environment => ({ name: '', created: false, target: null, healthCheck: null, deployments: [] });

const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const MAX_TIMEOUT_MS = 6 * 60 * 60 * 1000;
const MAX_ATTEMPTS = 20;
const MIN_SECRET_LENGTH = 16;
const MAX_REASON = 2000;

export function validateEnvironmentName(name: unknown): string {
  if (typeof name !== 'string' || !ENVIRONMENT_NAME.test(name))
    throw new ValidationFailed('an environment name is 1-64 letters, digits, dashes or underscores, starting with a letter or digit', {
      field: 'name',
    });
  return name;
}

export function validateHttpUrl(field: string, url: unknown): string {
  let parsed: URL | null = null;
  try {
    parsed = typeof url === 'string' ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw new ValidationFailed(`${field} must be an absolute http(s) URL`, { field });
  return parsed.toString();
}

export function validateWebhookSecret(field: string, secret: unknown): string {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH || secret.length > 256)
    throw new ValidationFailed(`${field} must be ${MIN_SECRET_LENGTH}-256 characters`, { field });
  return secret;
}

function validateTimeout(field: string, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > MAX_TIMEOUT_MS)
    throw new ValidationFailed(`${field} must be between 1 ms and 6 hours`, { field });
  return ms;
}

function validateTarget(t: DeploymentTarget): DeploymentTarget {
  switch (t.kind) {
    case 'webhook':
      if (!Number.isInteger(t.maxAttempts) || t.maxAttempts < 1 || t.maxAttempts > MAX_ATTEMPTS)
        throw new ValidationFailed(`target.maxAttempts must be between 1 and ${MAX_ATTEMPTS}`, { field: 'target.maxAttempts' });
      return {
        kind: 'webhook',
        url: validateHttpUrl('target.url', t.url),
        secret: validateWebhookSecret('target.secret', t.secret),
        timeoutMs: validateTimeout('target.timeoutMs', t.timeoutMs),
        maxAttempts: t.maxAttempts,
      };
    case 'command':
      // An argv array is executed without a shell, so no argument is ever interpreted as shell syntax.
      if (!Array.isArray(t.argv) || t.argv.length === 0 || t.argv.some((a) => typeof a !== 'string') || t.argv[0]!.trim() === '')
        throw new ValidationFailed('target.argv must be a non-empty list of arguments, the program first', { field: 'target.argv' });
      return { kind: 'command', argv: [...t.argv], timeoutMs: validateTimeout('target.timeoutMs', t.timeoutMs) };
    default:
      return assertNever(t);
  }
}

function requireEnvironment(env: Environment, name: string): void {
  if (!env.created) throw new NotFound(`environment ${name} does not exist`, { environment: name });
}

function requireIdle(env: Environment): void {
  const busy = env.deployments.find((d) => d.status === 'requested' || d.status === 'started');
  // One deployment at a time per environment: two would race on the same target.
  if (busy)
    throw new IllegalTransition(`deployment ${busy.id} to ${env.name} is still ${busy.status}; wait for it to finish`, {
      environment: env.name,
      deploymentId: busy.id,
    });
}

function requireDeployment(env: Environment, id: string, expected: DeploymentStatus) {
  const d = env.deployments.find((x) => x.id === id);
  if (!d) throw new NotFound(`environment ${env.name} has no deployment ${id}`, { environment: env.name, deploymentId: id });
  if (d.status !== expected)
    throw new IllegalTransition(`deployment ${id} is ${d.status}, not ${expected}`, { deploymentId: id, status: d.status });
  return d;
}

/** The deployment serving now: the newest one that succeeded and was not rolled back. */
export function liveDeployment(env: Environment): DeploymentState | null {
  for (let i = env.deployments.length - 1; i >= 0; i--) if (env.deployments[i]!.status === 'succeeded') return env.deployments[i]!;
  return null;
}

/**
 * What a rollback restores. Explicit: any earlier deployment that once succeeded and is not
 * live. Default: the newest successful one before the live one that runs another version,
 * so "roll back" always changes what is served.
 */
export function rollbackTarget(env: Environment, toDeploymentId: string | undefined): { live: DeploymentState; target: DeploymentState } {
  const live = liveDeployment(env);
  if (!live) throw new IllegalTransition(`nothing is deployed in ${env.name}; there is nothing to roll back`, { environment: env.name });
  if (toDeploymentId !== undefined) {
    const target = env.deployments.find((d) => d.id === toDeploymentId);
    if (!target) throw new NotFound(`environment ${env.name} has no deployment ${toDeploymentId}`, { deploymentId: toDeploymentId });
    if (!target.everSucceeded)
      throw new IllegalTransition(`deployment ${toDeploymentId} never succeeded; only a successful deployment can be restored`, {
        deploymentId: toDeploymentId,
      });
    if (target.id === live.id) throw new IllegalTransition(`deployment ${toDeploymentId} is the live one`, { deploymentId: toDeploymentId });
    return { live, target };
  }
  const liveIndex = env.deployments.indexOf(live);
  for (let i = liveIndex - 1; i >= 0; i--) {
    const d = env.deployments[i]!;
    if (d.everSucceeded && d.status !== 'rolled_back' && (d.model !== live.model || d.version !== live.version)) return { live, target: d };
  }
  throw new IllegalTransition(`${env.name} has no earlier successful deployment of another version to roll back to`, { environment: env.name });
}

export function decideEnvironment(cmd: EnvironmentCommand, env: Environment): EnvironmentEvent[] {
  switch (cmd.type) {
    case 'CreateEnvironment': {
      const d = cmd.data;
      const name = validateEnvironmentName(d.name);
      if (env.created) throw new ConcurrencyConflict(`environment ${name} already exists`, { environment: name });
      const healthCheck =
        d.healthCheck === null
          ? null
          : { url: validateHttpUrl('healthCheck.url', d.healthCheck.url), timeoutMs: validateTimeout('healthCheck.timeoutMs', d.healthCheck.timeoutMs) };
      return [{ type: 'EnvironmentCreated', data: { name, target: validateTarget(d.target), healthCheck, at: d.at } }];
    }
    case 'RequestDeployment': {
      const d = cmd.data;
      requireEnvironment(env, d.environment);
      if (d.version === null)
        throw new NotFound(`model ${d.requested.model} has no version ${d.requested.version}`, { model: d.requested.model, version: d.requested.version });
      requireIdle(env);
      return [
        {
          type: 'DeploymentRequested',
          data: {
            environment: env.name,
            deploymentId: d.deploymentId,
            ...d.version,
            reason: validateText('reason', d.reason, MAX_REASON, { allowEmpty: true }),
            rollbackOf: null,
            restores: null,
            at: d.at,
          },
        },
      ];
    }
    case 'RequestRollback': {
      const d = cmd.data;
      requireEnvironment(env, d.environment);
      requireIdle(env);
      let undone: DeploymentState;
      let restored: DeploymentState;
      if (d.afterFailureOf !== undefined) {
        const failed = env.deployments.find((x) => x.id === d.afterFailureOf);
        if (!failed || (failed.status !== 'failed' && failed.status !== 'timed_out')) return [];
        // A rollback that fails is not rolled back again: that could loop between two broken versions.
        if (failed.rollbackOf !== null) return [];
        const live = liveDeployment(env);
        if (!live) return [];
        undone = failed;
        restored = live;
      } else {
        const { live, target } = rollbackTarget(env, d.toDeploymentId);
        undone = live;
        restored = target;
      }
      const reason =
        d.reason ?? (d.afterFailureOf !== undefined ? `automatic rollback after ${undone.id} failed` : `rollback of ${undone.id} to ${restored.id}`);
      return [
        {
          type: 'DeploymentRequested',
          data: {
            environment: env.name,
            deploymentId: d.deploymentId,
            model: restored.model,
            version: restored.version,
            sha256: restored.sha256,
            artifactPath: restored.artifactPath,
            reason: validateText('reason', reason, MAX_REASON, { allowEmpty: true }),
            rollbackOf: undone.id,
            restores: restored.id,
            at: d.at,
          },
        },
      ];
    }
    case 'StartDeployment':
      requireEnvironment(env, cmd.data.environment);
      requireDeployment(env, cmd.data.deploymentId, 'requested');
      return [{ type: 'DeploymentStarted', data: { environment: env.name, deploymentId: cmd.data.deploymentId, at: cmd.data.at } }];
    case 'RecordDeploymentAttempt':
      requireEnvironment(env, cmd.data.environment);
      requireDeployment(env, cmd.data.deploymentId, 'started');
      return [{ type: 'DeploymentAttemptRecorded', data: { ...cmd.data, environment: env.name, output: cmd.data.output.slice(-4096) } }];
    case 'FinishDeployment': {
      const d = cmd.data;
      requireEnvironment(env, d.environment);
      requireDeployment(env, d.deploymentId, 'started');
      if (d.outcome === 'succeeded') return [{ type: 'DeploymentSucceeded', data: { environment: env.name, deploymentId: d.deploymentId, at: d.at } }];
      return [
        {
          type: 'DeploymentFailed',
          data: { environment: env.name, deploymentId: d.deploymentId, outcome: d.outcome, error: d.error ?? d.outcome, at: d.at },
        },
      ];
    }
    default:
      return assertNever(cmd);
  }
}

function withDeployment(env: Environment, id: string, change: (d: DeploymentState) => DeploymentState): Environment {
  return { ...env, deployments: env.deployments.map((d) => (d.id === id ? change(d) : d)) };
}

export function evolveEnvironment(env: Environment, ev: EnvironmentEvent): Environment {
  switch (ev.type) {
    case 'EnvironmentCreated':
      return { ...initialEnvironment(), name: ev.data.name, created: true, target: ev.data.target, healthCheck: ev.data.healthCheck };
    case 'DeploymentRequested': {
      const d = ev.data;
      const deployment: DeploymentState = {
        id: d.deploymentId,
        model: d.model,
        version: d.version,
        sha256: d.sha256,
        artifactPath: d.artifactPath,
        status: 'requested',
        everSucceeded: false,
        rollbackOf: d.rollbackOf,
      };
      return { ...env, deployments: [...env.deployments, deployment] };
    }
    case 'DeploymentStarted':
      return withDeployment(env, ev.data.deploymentId, (d) => ({ ...d, status: 'started' }));
    case 'DeploymentAttemptRecorded':
      return env;
    case 'DeploymentSucceeded': {
      const succeeded = env.deployments.find((d) => d.id === ev.data.deploymentId);
      let next = withDeployment(env, ev.data.deploymentId, (d) => ({ ...d, status: 'succeeded', everSucceeded: true }));
      const undone = succeeded?.rollbackOf;
      if (undone) next = withDeployment(next, undone, (d) => (d.status === 'succeeded' ? { ...d, status: 'rolled_back' } : d));
      return next;
    }
    case 'DeploymentFailed':
      return withDeployment(env, ev.data.deploymentId, (d) => ({ ...d, status: ev.data.outcome }));
    default:
      return assertNever(ev);
  }
}

export const environmentDecider: Decider<Environment, EnvironmentCommand, EnvironmentEvent> = {
  decide: decideEnvironment,
  evolve: evolveEnvironment,
  initialState: initialEnvironment,
};
