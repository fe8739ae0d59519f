import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  experimentDecider,
  experimentNameDecider,
  experimentNameStream,
  experimentStream,
  requireRole,
  runDecider,
  runStream,
  tokenDecider,
  tokenStream,
  userDecider,
  userStream,
  ValidationFailed,
  type ExperimentFact,
  type KeyValue,
  type Role,
  type RunSource,
  type RunDatasetInput,
  type TerminalStatus,
} from '@chronicle/domain';
import { handleCommand, loadState, StateCache, type AppendResult, type EventStore } from '@chronicle/event-store';
import { contentKeyedMeta, metaFor, type CommandContext } from './context.js';
import { createRegistryCommands, type PromotionGate, type RegistryDeps } from './registry.js';
import { createPromotionCommands, type PromotionFactSources } from './promotion.js';
import { createDeploymentCommands } from './deployments.js';
import { createWebhookCommands } from './webhooks.js';
import { createDatasetCommands, type ManifestInspector } from './datasets.js';
import { createLoggedModelCommands } from './logged-models.js';

export interface CommandsOptions {
  store: EventStore;
  /** The clock every decision uses; tests pass a fixed one. */
  clock?: () => number;
  newId?: () => string;
  /**
   * Called with the last position a command wrote (or replayed) before it answers: the
   * server waits there for the read models, which gives read-your-writes.
   */
  afterAppend?: (position: number) => Promise<void>;
  /** Checked before any model alias or stage moves (approvals, promotion gates). */
  promotionGate?: PromotionGate;
  /** Run metrics and lineage for promotion gates, from the read models. */
  promotionFacts?: PromotionFactSources;
  /** The environments a model version is deployed in now: deleting it is refused while there are any. */
  deployedIn?: (model: string, version: number) => readonly string[];
  /** Reads a dataset manifest from the blob store before a commit records it. */
  inspectManifest?: ManifestInspector;
  /** Stores the manifest of a directory of run artifacts registered as one model version. */
  storeManifest?: RegistryDeps['storeManifest'];
}

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function validId(field: string, id: string): string {
  if (!ID.test(id))
    throw new ValidationFailed(`${field} must be 1-64 letters, digits, dashes or underscores`, { field });
  return id;
}

export interface StartRunInput {
  experimentId: string;
  runId?: string;
  name?: string;
  tags?: KeyValue[];
  parentRunId?: string | null;
  source?: RunSource;
  environment?: Record<string, unknown>;
  startTime?: number;
  /** The run this one reproduces (`chronicle reproduce --execute`). */
  reproductionOf?: string | null;
}

export type { MetricPointInput as MetricInput } from '@chronicle/domain';
import type { MetricPointInput as MetricInput } from '@chronicle/domain';

export type CommandResult<T = object> = T & { position: number; replayed: boolean };

/**
 * The one write path: GraphQL, REST, the CLI and SDKs all end here. Each method checks
 * the caller's role, gathers the facts its decider needs and appends what it decides.
 */
export function createCommands(opts: CommandsOptions) {
  const { store } = opts;
  const clock = opts.clock ?? Date.now;
  const newId = opts.newId ?? (() => randomUUID().replaceAll('-', ''));
  const cache = new StateCache();

  async function done<T extends object>(res: AppendResult, value: T): Promise<CommandResult<T>> {
    await opts.afterAppend?.(res.lastPosition);
    // A replayed request answers what the first one answered.
    const original = res.replayed && res.result && typeof res.result === 'object' ? (res.result as T) : value;
    return { ...original, position: res.lastPosition, replayed: res.replayed };
  }

  async function experimentFact(experimentId: string): Promise<ExperimentFact> {
    const { state } = await loadState(store, experimentStream(experimentId), experimentDecider, cache);
    return state.status === 'none' ? null : { experimentId, status: state.status };
  }

  function writer(ctx: CommandContext, action: string) {
    requireRole(ctx.principal, 'member', action);
  }

  /** Runs one command on one run stream. */
  async function onRun<T extends object>(
    ctx: CommandContext,
    name: string,
    runId: string,
    input: unknown,
    command: Parameters<typeof runDecider.decide>[0],
    value: T,
  ) {
    writer(ctx, name);
    const res = await handleCommand(store, runStream(runId), runDecider, command, {
      meta: metaFor(ctx, name, input, value),
      cache,
    });
    return done(res, value);
  }

  /** Runs one command on one experiment stream. */
  async function onExperiment(
    ctx: CommandContext,
    name: string,
    experimentId: string,
    input: unknown,
    command: Parameters<typeof experimentDecider.decide>[0],
  ) {
    writer(ctx, name);
    const res = await handleCommand(store, experimentStream(experimentId), experimentDecider, command, {
      meta: metaFor(ctx, name, input, { experimentId }),
      cache,
    });
    return done(res, { experimentId });
  }

  const experiments = {
    async create(ctx: CommandContext, input: { name: string; description?: string; tags?: KeyValue[]; experimentId?: string }) {
      writer(ctx, 'creating an experiment');
      const experimentId = validId('experimentId', input.experimentId ?? newId());
      const name = typeof input.name === 'string' ? input.name.trim() : input.name;
      const events = experimentDecider.decide(
        {
          type: 'CreateExperiment',
          data: { experimentId, name, description: input.description ?? '', tags: input.tags ?? [], at: clock() },
        },
        experimentDecider.initialState(),
      );
      const meta = metaFor(ctx, 'CreateExperiment', input, { experimentId });
      const replay = await store.findReplay(meta);
      if (replay) return done(replay, { experimentId });
      const claim = await loadState(store, experimentNameStream(name), experimentNameDecider);
      const claimed = experimentNameDecider.decide({ type: 'ClaimExperimentName', data: { name, experimentId } }, claim.state);
      // The name claim and the experiment commit together or not at all.
      const res = await store.append(
        [
          // A name released by a rename has a stream already: claim it at the revision it was read.
          { stream: experimentNameStream(name), expectedRevision: claim.revision === -1 ? 'no_stream' : claim.revision, events: claimed },
          { stream: experimentStream(experimentId), expectedRevision: 'no_stream', events },
        ],
        meta,
      );
      return done(res, { experimentId });
    },
    delete: (ctx: CommandContext, experimentId: string) =>
      onExperiment(ctx, 'DeleteExperiment', experimentId, { experimentId }, { type: 'DeleteExperiment', data: { experimentId, at: clock() } }),
    restore: (ctx: CommandContext, experimentId: string) =>
      onExperiment(ctx, 'RestoreExperiment', experimentId, { experimentId }, { type: 'RestoreExperiment', data: { experimentId, at: clock() } }),
    setTags: (ctx: CommandContext, experimentId: string, tags: KeyValue[]) =>
      onExperiment(ctx, 'SetExperimentTags', experimentId, { experimentId, tags }, { type: 'SetExperimentTags', data: { experimentId, tags } }),
    /** Claims the new name and frees the old one in one append, so a name is never held twice nor lost. */
    async rename(ctx: CommandContext, experimentId: string, newName: string) {
      writer(ctx, 'renaming an experiment');
      const meta = metaFor(ctx, 'RenameExperiment', { experimentId, name: newName }, { experimentId });
      const replay = await store.findReplay(meta);
      if (replay) return done(replay, { experimentId });
      const exp = await loadState(store, experimentStream(experimentId), experimentDecider, cache);
      const events = experimentDecider.decide({ type: 'RenameExperiment', data: { experimentId, name: newName } }, exp.state);
      if (events.length === 0) return done(await store.append([], meta), { experimentId });
      const { name, previousName } = (events[0] as Extract<(typeof events)[number], { type: 'ExperimentRenamed' }>).data;
      const claim = await loadState(store, experimentNameStream(name), experimentNameDecider);
      const claimed = experimentNameDecider.decide({ type: 'ClaimExperimentName', data: { name, experimentId } }, claim.state);
      const old = await loadState(store, experimentNameStream(previousName), experimentNameDecider);
      const released = experimentNameDecider.decide({ type: 'ReleaseExperimentName', data: { name: previousName, experimentId } }, old.state);
      const at = (revision: number) => (revision === -1 ? ('no_stream' as const) : revision);
      const res = await store.append(
        [
          { stream: experimentNameStream(name), expectedRevision: at(claim.revision), events: claimed },
          { stream: experimentNameStream(previousName), expectedRevision: at(old.revision), events: released },
          { stream: experimentStream(experimentId), expectedRevision: at(exp.revision), events },
        ],
        meta,
      );
      return done(res, { experimentId });
    },
  };

  const runs = {
    async start(ctx: CommandContext, input: StartRunInput) {
      writer(ctx, 'starting a run');
      const runId = validId('runId', input.runId ?? newId());
      const parentRunId = input.parentRunId ?? null;
      const experiment = await experimentFact(input.experimentId);
      let parent = null;
      if (parentRunId !== null) {
        const p = await loadState(store, runStream(parentRunId), runDecider, cache);
        parent = p.state.status === 'none' ? null : { runId: parentRunId, experimentId: p.state.experimentId };
      }
      const reproductionOf = input.reproductionOf ?? null;
      let reproduced = null;
      if (reproductionOf !== null) {
        const r = await loadState(store, runStream(reproductionOf), runDecider, cache);
        reproduced = r.state.status === 'none' ? null : { runId: reproductionOf };
      }
      const now = clock();
      return onRun(
        ctx,
        'StartRun',
        runId,
        input,
        {
          type: 'StartRun',
          data: {
            runId,
            name: input.name ?? '',
            tags: input.tags ?? [],
            parentRunId,
            source: input.source ?? {},
            environment: input.environment ?? {},
            startTime: input.startTime ?? now,
            experiment,
            parent,
            reproductionOf,
            reproduced,
          },
        },
        { runId },
      );
    },
    logParams: (ctx: CommandContext, runId: string, params: KeyValue[]) =>
      onRun(ctx, 'LogParams', runId, { runId, params }, { type: 'LogParams', data: { runId, params } }, { runId }),
    logMetrics: (ctx: CommandContext, runId: string, metrics: readonly MetricInput[]) =>
      onRun(
        ctx,
        'LogMetrics',
        runId,
        { runId, metrics },
        { type: 'LogMetrics', data: { runId, points: metrics, defaultTimestamp: clock() } },
        { runId, accepted: metrics.length },
      ),
    setTags: (ctx: CommandContext, runId: string, tags: KeyValue[]) =>
      onRun(ctx, 'SetRunTags', runId, { runId, tags }, { type: 'SetRunTags', data: { runId, tags } }, { runId }),
    /**
     * Params, tags and metrics in one append (MLflow's log-batch). An idempotency key covers
     * the metric points only, the one part whose repeat would record something twice: when it
     * matches, the points are already recorded and params and tags still apply (both are
     * no-ops when unchanged), so a retry that differs only in tags is not refused.
     * `contentKey` is a key derived from the points themselves, for callers that send none.
     */
    async logBatch(
      ctx: CommandContext,
      runId: string,
      batch: { metrics: readonly MetricInput[]; params: KeyValue[]; tags: KeyValue[]; name?: string; contentKey?: string },
    ) {
      writer(ctx, 'logging to a run');
      const { contentKey, ...rest } = batch;
      const value = { runId, accepted: batch.metrics.length };
      const command = (points: readonly MetricInput[]) => ({
        type: 'LogBatch' as const,
        data: {
          runId,
          params: batch.params,
          tags: batch.tags,
          points,
          defaultTimestamp: clock(),
          ...(batch.name !== undefined ? { name: batch.name } : {}),
        },
      });
      const points = batch.metrics.length > 0;
      // Without points, a client's key covers the whole batch, as for any other command.
      const meta =
        points && contentKey && !ctx.idempotencyKey
          ? contentKeyedMeta(ctx, contentKey, value)
          : metaFor(ctx, 'LogBatch', points ? { runId, metrics: batch.metrics } : { runId, ...rest }, value);
      if (points && meta.idempotencyKey) {
        const replay = await store.findReplay(meta);
        if (replay) {
          if (batch.params.length === 0 && batch.tags.length === 0 && batch.name === undefined) return done(replay, value);
          const unkeyed = { ...ctx, idempotencyKey: undefined };
          const res = await onRun(unkeyed, 'LogBatch', runId, { runId, ...rest, metrics: [] }, command([]), value);
          return { ...res, replayed: true };
        }
      }
      const res = await handleCommand(store, runStream(runId), runDecider, command(batch.metrics), { meta, cache });
      return done(res, value);
    },
    /** Dataset references and logged models the run used (MLflow's log-inputs); ones already logged are skipped. */
    logDatasets: (ctx: CommandContext, runId: string, datasets: RunDatasetInput[], models: string[] = []) =>
      onRun(
        ctx,
        'LogRunDatasets',
        runId,
        { runId, datasets, models },
        { type: 'LogRunDatasets', data: { runId, datasets, ...(models.length ? { models } : {}) } },
        { runId },
      ),
    deleteTag: (ctx: CommandContext, runId: string, key: string) =>
      onRun(ctx, 'DeleteRunTag', runId, { runId, key }, { type: 'DeleteRunTag', data: { runId, key } }, { runId }),
    finish: (ctx: CommandContext, runId: string, status: TerminalStatus, endTime?: number) =>
      onRun(
        ctx,
        'FinishRun',
        runId,
        { runId, status, endTime },
        { type: 'FinishRun', data: { runId, status, endTime: endTime ?? clock() } },
        { runId },
      ),
    delete: (ctx: CommandContext, runId: string) =>
      onRun(ctx, 'DeleteRun', runId, { runId }, { type: 'DeleteRun', data: { runId, at: clock() } }, { runId }),
    restore: (ctx: CommandContext, runId: string) =>
      onRun(ctx, 'RestoreRun', runId, { runId }, { type: 'RestoreRun', data: { runId, at: clock() } }, { runId }),
    async move(ctx: CommandContext, runId: string, toExperimentId: string) {
      const target = await experimentFact(toExperimentId);
      return onRun(
        ctx,
        'MoveRun',
        runId,
        { runId, toExperimentId },
        { type: 'MoveRun', data: { runId, toExperimentId, target } },
        { runId },
      );
    },
  };

  const users = {
    async create(ctx: CommandContext, username: string, role: Role) {
      requireRole(ctx.principal, 'admin', 'creating users');
      const res = await handleCommand(
        store,
        userStream(username),
        userDecider,
        { type: 'CreateUser', data: { username, role, at: clock() } },
        { meta: metaFor(ctx, 'CreateUser', { username, role }, { username }), cache },
      );
      return done(res, { username });
    },
    async changeRole(ctx: CommandContext, username: string, role: Role) {
      requireRole(ctx.principal, 'admin', 'changing roles');
      const res = await handleCommand(
        store,
        userStream(username),
        userDecider,
        { type: 'ChangeUserRole', data: { username, role } },
        { meta: metaFor(ctx, 'ChangeUserRole', { username, role }, { username }), cache },
      );
      return done(res, { username });
    },
    /**
     * Issues a bearer token acting as `username`. Users may issue tokens for themselves;
     * admins for anyone. The secret is returned here once and only its hash is stored.
     */
    async issueToken(ctx: CommandContext, input: { username?: string; name: string; expiresAt?: number | null }) {
      const username = input.username ?? ctx.principal.username;
      if (username !== ctx.principal.username) requireRole(ctx.principal, 'admin', "issuing another user's token");
      const user = await loadState(store, userStream(username), userDecider, cache);
      const tokenId = `tok_${randomBytes(8).toString('hex')}`;
      const secret = `chr_${tokenId.slice(4)}_${randomBytes(24).toString('base64url')}`;
      const res = await handleCommand(
        store,
        tokenStream(tokenId),
        tokenDecider,
        {
          type: 'IssueToken',
          data: {
            tokenId,
            username,
            name: input.name,
            secretHash: hashSecret(secret),
            issuedAt: clock(),
            expiresAt: input.expiresAt ?? null,
            userExists: user.state.role !== null,
          },
        },
        // No idempotency key: replaying would have to store the secret to answer with it.
        { meta: metaFor({ ...ctx, idempotencyKey: undefined }, 'IssueToken', input), cache },
      );
      return done(res, { tokenId, username, secret });
    },
    async revokeToken(ctx: CommandContext, tokenId: string, owner: string | null) {
      if (owner !== ctx.principal.username) requireRole(ctx.principal, 'admin', "revoking another user's token");
      const res = await handleCommand(
        store,
        tokenStream(tokenId),
        tokenDecider,
        { type: 'RevokeToken', data: { tokenId, at: clock() } },
        { meta: metaFor(ctx, 'RevokeToken', { tokenId }, { tokenId }), cache },
      );
      return done(res, { tokenId });
    },
  };

  const promotion = createPromotionCommands({ store, clock, done, ...(opts.promotionFacts ? { sources: opts.promotionFacts } : {}) });
  const registry = createRegistryCommands({
    store,
    clock,
    cache,
    done,
    promotionGate: opts.promotionGate ?? promotion.gate,
    ...(opts.deployedIn ? { deployedIn: opts.deployedIn } : {}),
    ...(opts.storeManifest ? { storeManifest: opts.storeManifest } : {}),
  });
  const deployments = createDeploymentCommands({ store, clock, newId, cache, done });
  const webhooks = createWebhookCommands({ store, clock, newId, cache, done });

  const data = createDatasetCommands({ store, clock, cache, done, ...(opts.inspectManifest ? { inspectManifest: opts.inspectManifest } : {}) });

  const loggedModels = createLoggedModelCommands({ store, clock, cache, done });

  return { experiments, runs, users, ...registry, ...data, deployments, webhooks, promotion, loggedModels };
}

export type Commands = ReturnType<typeof createCommands>;

export const hashSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');
