import {
  modelDecider,
  modelStream,
  requireRole,
  runDecider,
  runStream,
  type KeyValue,
  type ModelCard,
  type ModelCommand,
  type ModelPointerCommand,
  type ModelStage,
} from '@chronicle/domain';
import { handleCommand, loadState, type AppendResult, type EventStore, type StateCache } from '@chronicle/event-store';
import { metaFor, type CommandContext } from './context.js';

/**
 * Decides an alias or stage move together with its promotion gates (approvals, rules), on
 * one revision of the model's stream, and appends it; throwing refuses the move. Null: this
 * change is not gated, so the registry appends it itself. Every way of moving a pointer
 * passes here.
 */
export type PromotionGate = (ctx: CommandContext, input: unknown, change: ModelPointerCommand) => Promise<AppendResult | null>;

export interface RegistryDeps {
  store: EventStore;
  clock: () => number;
  cache: StateCache;
  done<T extends object>(res: AppendResult, value: T): Promise<T & { position: number; replayed: boolean }>;
  promotionGate?: PromotionGate;
  /** The environments a model version is deployed in, or being deployed to, now. */
  deployedIn?: (model: string, version: number) => readonly string[];
}

export interface LogArtifactInput {
  runId: string;
  path: string;
  sha256: string;
  size: number;
  contentType: string;
}

export interface RegisterModelInput {
  name: string;
  description?: string;
  tags?: KeyValue[];
  card?: Partial<ModelCard>;
}

export interface CreateModelVersionInput {
  model: string;
  runId: string;
  artifactPath: string;
  format?: string | null;
  signature?: Record<string, unknown> | null;
  description?: string;
}

// Every registration of a version writes to its model's one stream; under a burst of
// concurrent registrations each lost race re-decides, so allow as many as a burst has writers.
const MODEL_STREAM_RETRIES = 64;

/** Run artifacts and the model registry: the commands behind the registry's API. */
export function createRegistryCommands(deps: RegistryDeps) {
  const { store, clock, cache, done } = deps;

  async function onModel(ctx: CommandContext, name: string, input: unknown, command: ModelCommand, value: { model: string } & object) {
    const res = await handleCommand(store, modelStream(name), modelDecider, command, {
      meta: metaFor(ctx, command.type, input, value),
      cache,
      retries: MODEL_STREAM_RETRIES,
    });
    return { res, value };
  }

  /** The one path by which aliases and stages move. */
  async function movePointer(ctx: CommandContext, input: unknown, command: ModelPointerCommand) {
    requireRole(ctx.principal, 'maintainer', 'moving model aliases and stages');
    const gated = await deps.promotionGate?.(ctx, input, command);
    if (gated) return done(gated, { model: command.data.name });
    const { res, value } = await onModel(ctx, command.data.name, input, command, { model: command.data.name });
    return done(res, value);
  }

  const artifacts = {
    async log(ctx: CommandContext, input: LogArtifactInput) {
      requireRole(ctx.principal, 'member', 'logging artifacts');
      const res = await handleCommand(
        store,
        runStream(input.runId),
        runDecider,
        { type: 'LogRunArtifact', data: input },
        { meta: metaFor(ctx, 'LogRunArtifact', input, { runId: input.runId, path: input.path }), cache },
      );
      return done(res, { runId: input.runId, path: input.path, created: res.events.length > 0 });
    },
  };

  const models = {
    async register(ctx: CommandContext, input: RegisterModelInput) {
      requireRole(ctx.principal, 'member', 'registering models');
      const name = typeof input.name === 'string' ? input.name.trim() : input.name;
      const { res, value } = await onModel(
        ctx,
        name,
        input,
        { type: 'RegisterModel', data: { name, description: input.description ?? '', tags: input.tags ?? [], card: input.card ?? {}, at: clock() } },
        { model: name },
      );
      return done(res, value);
    },

    async createVersion(ctx: CommandContext, input: CreateModelVersionInput) {
      requireRole(ctx.principal, 'member', 'creating model versions');
      const run = await loadState(store, runStream(input.runId), runDecider, cache);
      const artifact = run.state.artifacts[input.artifactPath] ?? null;
      const command: ModelCommand = {
        type: 'CreateModelVersion',
        data: {
          name: input.model,
          runId: input.runId,
          artifactPath: input.artifactPath,
          artifact,
          format: input.format ?? null,
          signature: input.signature ?? null,
          description: input.description ?? '',
          at: clock(),
        },
      };
      const meta = metaFor(ctx, 'CreateModelVersion', input);
      const res = await handleCommand(
        store,
        modelStream(input.model),
        modelDecider,
        (state) => {
          // The number is known only on the state the decision is made on; a retry with the
          // same idempotency key must answer with that same number.
          if (meta.idempotencyKey) meta.result = { model: input.model, version: state.lastVersion + 1 };
          return command;
        },
        { meta, cache, retries: MODEL_STREAM_RETRIES },
      );
      const created = res.events.find((e) => e.type === 'ModelVersionCreated')?.data as { version: number } | undefined;
      return done(res, { model: input.model, version: created?.version ?? 0 });
    },

    setAlias: (ctx: CommandContext, input: { model: string; alias: string; version: number; expectedCurrentVersion?: number | null }) =>
      movePointer(ctx, input, {
        type: 'SetModelAlias',
        data: { name: input.model, alias: input.alias, version: input.version, expectedCurrentVersion: input.expectedCurrentVersion, at: clock() },
      }),

    removeAlias: (ctx: CommandContext, input: { model: string; alias: string; expectedCurrentVersion?: number | null }) =>
      movePointer(ctx, input, {
        type: 'RemoveModelAlias',
        data: { name: input.model, alias: input.alias, expectedCurrentVersion: input.expectedCurrentVersion, at: clock() },
      }),

    transitionStage: (
      ctx: CommandContext,
      input: { model: string; version: number; stage: ModelStage; archiveExisting?: boolean; expectedCurrentStage?: ModelStage },
    ) =>
      movePointer(ctx, input, {
        type: 'TransitionModelVersionStage',
        data: {
          name: input.model,
          version: input.version,
          stage: input.stage,
          archiveExisting: input.archiveExisting ?? false,
          expectedCurrentStage: input.expectedCurrentStage,
          at: clock(),
        },
      }),

    async deleteVersion(ctx: CommandContext, input: { model: string; version: number }) {
      requireRole(ctx.principal, 'maintainer', 'deleting model versions');
      const { res, value } = await onModel(
        ctx,
        input.model,
        input,
        {
          type: 'DeleteModelVersion',
          data: { name: input.model, version: input.version, deployedIn: deps.deployedIn?.(input.model, input.version) ?? [], at: clock() },
        },
        { model: input.model },
      );
      return done(res, value);
    },
  };

  return { artifacts, models };
}
