import {
  ConcurrencyConflict,
  decideModelRename,
  promotionDecider,
  retriedCreation,
  type ArtifactFact,
  type RetryWindow,
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
  /**
   * Stores the manifest of a directory of run artifacts (a model saved as several files, as
   * MLflow saves them) as a blob: a version of a directory points at its manifest's content.
   */
  storeManifest?: (files: readonly DirectoryFile[]) => Promise<NonNullable<ArtifactFact>>;
}

/** One file of a directory artifact, its path relative to the directory. */
export interface DirectoryFile {
  path: string;
  sha256: string;
  size: number;
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
  retry?: RetryWindow;
}

export interface CreateModelVersionInput {
  model: string;
  runId: string;
  artifactPath: string;
  format?: string | null;
  signature?: Record<string, unknown> | null;
  description?: string;
  /** The MLflow API's fields: where the client said the files are, version tags, the logged model. */
  source?: string | null;
  tags?: KeyValue[];
  loggedModelId?: string | null;
  /** Recognise a blind retry of this request (clients that retry without an idempotency key). */
  retry?: RetryWindow;
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

  /** A model command any member may send: descriptions and tags. */
  async function onMember(ctx: CommandContext, action: string, input: { model: string }, command: ModelCommand) {
    requireRole(ctx.principal, 'member', action);
    const { res, value } = await onModel(ctx, input.model, input, command, { model: input.model });
    return done(res, value);
  }

  /** "version 3 in production" for each live version deployed now. */
  function deployedVersions(model: string, versions: Record<number, { deleted: boolean }>): string[] {
    if (!deps.deployedIn) return [];
    return Object.entries(versions)
      .filter(([, v]) => !v.deleted)
      .flatMap(([n]) => deps.deployedIn!(model, Number(n)).map((env) => `version ${n} in ${env}`));
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
        {
          type: 'RegisterModel',
          data: {
            name,
            description: input.description ?? '',
            tags: input.tags ?? [],
            card: input.card ?? {},
            at: clock(),
            ...(input.retry ? { retry: input.retry } : {}),
          },
        },
        { model: name },
      );
      return done(res, value);
    },

    async createVersion(ctx: CommandContext, input: CreateModelVersionInput) {
      requireRole(ctx.principal, 'member', 'creating model versions');
      const run = await loadState(store, runStream(input.runId), runDecider, cache);
      let artifact: ArtifactFact = run.state.artifacts[input.artifactPath] ?? null;
      if (artifact === null && deps.storeManifest) {
        // Not a file: a directory of files (MLflow's model layout) is registered by its manifest.
        const prefix = input.artifactPath === '' ? '' : `${input.artifactPath.replace(/\/+$/, '')}/`;
        const files = Object.entries(run.state.artifacts)
          .filter(([p]) => p.startsWith(prefix))
          .map(([p, a]) => ({ path: p.slice(prefix.length), sha256: a.sha256, size: a.size }));
        if (files.length > 0) artifact = await deps.storeManifest(files);
      }
      const at = clock();
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
          at,
          ...(input.source != null ? { source: input.source } : {}),
          ...(input.tags ? { tags: input.tags } : {}),
          ...(input.loggedModelId != null ? { loggedModelId: input.loggedModelId } : {}),
          ...(input.retry ? { retry: input.retry } : {}),
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
      // Nothing appended and no key replayed: the decider recognised a blind retry.
      const version = created?.version ?? retriedCreation(res.state, input.retry, at) ?? 0;
      return done(res, { model: input.model, version, retried: !created && !res.replayed });
    },

    updateDescription: (ctx: CommandContext, input: { model: string; description: string }) =>
      onMember(ctx, 'updating models', input, { type: 'UpdateModelDescription', data: { name: input.model, description: input.description, at: clock() } }),

    setTag: (ctx: CommandContext, input: { model: string; key: string; value: string }) =>
      onMember(ctx, 'tagging models', input, { type: 'SetModelTag', data: { name: input.model, key: input.key, value: input.value, at: clock() } }),

    deleteTag: (ctx: CommandContext, input: { model: string; key: string }) =>
      onMember(ctx, 'tagging models', input, { type: 'DeleteModelTag', data: { name: input.model, key: input.key, at: clock() } }),

    updateVersionDescription: (ctx: CommandContext, input: { model: string; version: number; description: string }) =>
      onMember(ctx, 'updating model versions', input, {
        type: 'UpdateModelVersionDescription',
        data: { name: input.model, version: input.version, description: input.description, at: clock() },
      }),

    setVersionTag: (ctx: CommandContext, input: { model: string; version: number; key: string; value: string }) =>
      onMember(ctx, 'tagging model versions', input, {
        type: 'SetModelVersionTag',
        data: { name: input.model, version: input.version, key: input.key, value: input.value, at: clock() },
      }),

    deleteVersionTag: (ctx: CommandContext, input: { model: string; version: number; key: string }) =>
      onMember(ctx, 'tagging model versions', input, {
        type: 'DeleteModelVersionTag',
        data: { name: input.model, version: input.version, key: input.key, at: clock() },
      }),

    /** Deletes the model, its versions and aliases (as MLflow does); refused while any version is deployed. */
    async delete(ctx: CommandContext, input: { model: string }) {
      requireRole(ctx.principal, 'maintainer', 'deleting models');
      const { state } = await loadState(store, modelStream(input.model), modelDecider, cache);
      const { res, value } = await onModel(
        ctx,
        input.model,
        input,
        { type: 'DeleteModel', data: { name: input.model, deployed: deployedVersions(input.model, state.versions), at: clock() } },
        { model: input.model },
      );
      return done(res, value);
    },

    /**
     * Moves the model to a new name: both names' streams are written in one atomic append at
     * the revisions decided on, so a concurrent registration of the new name makes one of
     * the two fail cleanly.
     */
    async rename(ctx: CommandContext, input: { model: string; newName: string }) {
      requireRole(ctx.principal, 'maintainer', 'renaming models');
      const newName = typeof input.newName === 'string' ? input.newName.trim() : input.newName;
      const meta = metaFor(ctx, 'RenameModel', input, { model: newName });
      const replay = await store.findReplay(meta);
      if (replay) return done(replay, { model: newName });
      for (let attempt = 0; ; attempt++) {
        const from = await loadState(store, modelStream(input.model), modelDecider, cache);
        const to = await loadState(store, modelStream(newName), modelDecider, cache);
        const promotion = await loadState(store, modelStream(input.model), promotionDecider);
        const gated = Object.keys(promotion.state.gates).length > 0 || Object.values(promotion.state.approvals).some((a) => a.length > 0);
        const decided = decideModelRename(
          {
            type: 'RenameModel',
            data: { name: input.model, newName, deployed: deployedVersions(input.model, from.state.versions), gated, at: clock() },
          },
          from.state,
          to.state,
        );
        const at = (revision: number) => (revision === -1 ? ('no_stream' as const) : revision);
        try {
          const res = await store.append(
            [
              { stream: modelStream(input.model), expectedRevision: at(from.revision), events: decided.from },
              { stream: modelStream(newName), expectedRevision: at(to.revision), events: decided.to },
            ],
            meta,
          );
          return done(res, { model: newName });
        } catch (e) {
          if (!(e instanceof ConcurrencyConflict) || attempt >= 3 || !('stream' in e.details)) throw e;
        }
      }
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
