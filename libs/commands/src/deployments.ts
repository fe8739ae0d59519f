import { randomBytes } from 'node:crypto';
import {
  environmentDecider,
  environmentStream,
  modelStream,
  requireRole,
  type DeploymentAttempt,
  type EnvironmentCommand,
  type ModelEvent,
  type ModelVersionFact,
} from '@chronicle/domain';
import { handleCommand, type AppendResult, type EventStore, type StateCache } from '@chronicle/event-store';
import { metaFor, type CommandContext } from './context.js';

export interface DeploymentDeps {
  store: EventStore;
  clock: () => number;
  newId: () => string;
  cache: StateCache;
  done<T extends object>(res: AppendResult, value: T): Promise<T & { position: number; replayed: boolean }>;
}

export type TargetInput =
  | { kind: 'webhook'; url: string; secret?: string | undefined; timeoutMs?: number | undefined; maxAttempts?: number | undefined }
  | { kind: 'command'; argv: string[]; timeoutMs?: number | undefined };

export interface CreateEnvironmentInput {
  name: string;
  target: TargetInput;
  healthCheck?: { url: string; timeoutMs?: number | undefined } | null | undefined;
}

export const DEFAULT_TARGET_TIMEOUT_MS = 60_000;
export const DEFAULT_TARGET_ATTEMPTS = 5;

/** A signing secret for a webhook: 32 random bytes, shown to its creator once. */
export const newSigningSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/** The version as the model's stream records it; null if it never existed or was deleted. */
export async function modelVersionFact(store: EventStore, model: string, version: number): Promise<ModelVersionFact> {
  const { events } = await store.readStream(modelStream(model));
  let fact: ModelVersionFact = null;
  for (const e of events as unknown as ModelEvent[]) {
    if (e.type === 'ModelVersionCreated' && e.data.version === version)
      fact = { model: e.data.name, version, sha256: e.data.sha256, artifactPath: e.data.artifactPath };
    if (e.type === 'ModelVersionDeleted' && e.data.version === version) fact = null;
  }
  return fact;
}

/** Environments and their deployments; the executor drives a deployment through the same decider. */
export function createDeploymentCommands(deps: DeploymentDeps) {
  const { store, clock, newId, cache, done } = deps;

  async function onEnvironment<T extends object>(ctx: CommandContext, name: string, input: unknown, command: EnvironmentCommand, value: T) {
    const res = await handleCommand(store, environmentStream(name), environmentDecider, command, {
      meta: metaFor(ctx, command.type, input, value),
      cache,
    });
    return done(res, value);
  }

  return {
    async create(ctx: CommandContext, input: CreateEnvironmentInput) {
      requireRole(ctx.principal, 'maintainer', 'creating environments');
      const t = input.target;
      const secret = t.kind === 'webhook' ? (t.secret ?? newSigningSecret()) : null;
      const target =
        t.kind === 'webhook'
          ? { kind: 'webhook' as const, url: t.url, secret: secret!, timeoutMs: t.timeoutMs ?? DEFAULT_TARGET_TIMEOUT_MS, maxAttempts: t.maxAttempts ?? DEFAULT_TARGET_ATTEMPTS }
          : { kind: 'command' as const, argv: t.argv, timeoutMs: t.timeoutMs ?? DEFAULT_TARGET_TIMEOUT_MS };
      const healthCheck = input.healthCheck ? { url: input.healthCheck.url, timeoutMs: input.healthCheck.timeoutMs ?? 30_000 } : null;
      return onEnvironment(
        ctx,
        input.name,
        input,
        { type: 'CreateEnvironment', data: { name: input.name, target, healthCheck, at: clock() } },
        // The generated secret is answered once, and again only to a retry of the same request.
        { environment: input.name, secret: t.kind === 'webhook' && t.secret === undefined ? secret : null },
      );
    },

    async deploy(ctx: CommandContext, input: { environment: string; model: string; version: number; reason?: string | undefined }) {
      requireRole(ctx.principal, 'maintainer', 'deploying models');
      const version = await modelVersionFact(store, input.model, input.version);
      const deploymentId = newId();
      return onEnvironment(
        ctx,
        input.environment,
        input,
        {
          type: 'RequestDeployment',
          data: {
            environment: input.environment,
            deploymentId,
            version,
            requested: { model: input.model, version: input.version },
            reason: input.reason ?? '',
            at: clock(),
          },
        },
        { environment: input.environment, deploymentId },
      );
    },

    async rollback(ctx: CommandContext, input: { environment: string; toDeploymentId?: string | undefined; reason?: string | undefined }) {
      requireRole(ctx.principal, 'maintainer', 'rolling back deployments');
      const deploymentId = newId();
      return onEnvironment(
        ctx,
        input.environment,
        input,
        {
          type: 'RequestRollback',
          data: { environment: input.environment, deploymentId, toDeploymentId: input.toDeploymentId, afterFailureOf: undefined, reason: input.reason, at: clock() },
        },
        { environment: input.environment, deploymentId },
      );
    },

    /** The executor's steps. Each is checked by the decider, so a step taken twice is refused, not repeated. */
    executor: {
      start: (ctx: CommandContext, environment: string, deploymentId: string) =>
        onEnvironment(ctx, environment, { deploymentId, step: 'start' }, { type: 'StartDeployment', data: { environment, deploymentId, at: clock() } }, { deploymentId }),
      recordAttempt: (ctx: CommandContext, environment: string, deploymentId: string, attempt: DeploymentAttempt) =>
        onEnvironment(
          ctx,
          environment,
          { deploymentId, attempt },
          { type: 'RecordDeploymentAttempt', data: { ...attempt, environment, deploymentId, at: clock() } },
          { deploymentId },
        ),
      finish: (ctx: CommandContext, environment: string, deploymentId: string, outcome: 'succeeded' | 'failed' | 'timed_out', error: string | null) =>
        onEnvironment(ctx, environment, { deploymentId, outcome }, { type: 'FinishDeployment', data: { environment, deploymentId, outcome, error, at: clock() } }, { deploymentId }),
      /** Restores the live version after `failedId` failed; answers deploymentId null when there is nothing to restore. */
      async rollbackAfterFailure(ctx: CommandContext, environment: string, failedId: string) {
        const deploymentId = newId();
        const res = await handleCommand(
          store,
          environmentStream(environment),
          environmentDecider,
          { type: 'RequestRollback', data: { environment, deploymentId, toDeploymentId: undefined, afterFailureOf: failedId, reason: undefined, at: clock() } },
          { meta: metaFor(ctx, 'RequestRollback', { failedId }), cache },
        );
        return done(res, { deploymentId: res.events.length > 0 ? deploymentId : null });
      },
    },
  };
}
