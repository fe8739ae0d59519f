import { randomBytes } from 'node:crypto';
import { loggedModelDecider, loggedModelStream, requireRole, type KeyValue, type LoggedModelCommand, type LoggedModelStatus } from '@chronicle/domain';
import { handleCommand, type AppendResult, type EventStore, type StateCache } from '@chronicle/event-store';
import { metaFor, type CommandContext } from './context.js';

export interface LoggedModelDeps {
  store: EventStore;
  clock: () => number;
  cache: StateCache;
  done<T extends object>(res: AppendResult, value: T): Promise<T & { position: number; replayed: boolean }>;
}

export interface CreateLoggedModelInput {
  /** Chosen by the caller when it must know the id first (to name a run after it); new otherwise. */
  modelId?: string;
  experimentId: string;
  name: string;
  modelType?: string;
  sourceRunId: string | null;
  /** The run whose artifacts will hold the files. */
  filesRunId: string;
  params?: KeyValue[];
  tags?: KeyValue[];
}

/** MLflow's id format for logged models. */
export const newLoggedModelId = () => `m-${randomBytes(16).toString('hex')}`;

/** MLflow 3's logged models: the commands behind `/api/2.0/mlflow/logged-models`. */
export function createLoggedModelCommands(deps: LoggedModelDeps) {
  const { store, clock, cache, done } = deps;

  async function on(ctx: CommandContext, action: string, modelId: string, input: unknown, command: LoggedModelCommand) {
    requireRole(ctx.principal, 'member', action);
    const res = await handleCommand(store, loggedModelStream(modelId), loggedModelDecider, command, {
      meta: metaFor(ctx, command.type, input, { modelId }),
      cache,
    });
    return done(res, { modelId });
  }

  return {
    create(ctx: CommandContext, input: CreateLoggedModelInput) {
      const modelId = input.modelId ?? newLoggedModelId();
      return on(ctx, 'logging models', modelId, input, {
        type: 'CreateLoggedModel',
        data: {
          modelId,
          experimentId: input.experimentId,
          name: input.name,
          modelType: input.modelType ?? '',
          sourceRunId: input.sourceRunId,
          filesRunId: input.filesRunId,
          // Each logged model's files get a folder of their own among the run's artifacts.
          artifactPath: `models/${modelId}`,
          params: input.params ?? [],
          tags: input.tags ?? [],
          at: clock(),
        },
      });
    },
    finalize: (ctx: CommandContext, input: { modelId: string; status: LoggedModelStatus }) =>
      on(ctx, 'logging models', input.modelId, input, { type: 'FinalizeLoggedModel', data: { ...input, at: clock() } }),
    setTags: (ctx: CommandContext, input: { modelId: string; tags: KeyValue[] }) =>
      on(ctx, 'tagging logged models', input.modelId, input, { type: 'SetLoggedModelTags', data: { ...input, at: clock() } }),
    deleteTag: (ctx: CommandContext, input: { modelId: string; key: string }) =>
      on(ctx, 'tagging logged models', input.modelId, input, { type: 'DeleteLoggedModelTag', data: { ...input, at: clock() } }),
    logParams: (ctx: CommandContext, input: { modelId: string; params: KeyValue[] }) =>
      on(ctx, 'logging models', input.modelId, input, { type: 'LogLoggedModelParams', data: { ...input, at: clock() } }),
    logOutput: (ctx: CommandContext, input: { modelId: string; runId: string; step: number }) =>
      on(ctx, 'logging run outputs', input.modelId, input, { type: 'LogLoggedModelOutput', data: { ...input, at: clock() } }),
    delete: (ctx: CommandContext, input: { modelId: string }) =>
      on(ctx, 'deleting logged models', input.modelId, input, { type: 'DeleteLoggedModel', data: { ...input, at: clock() } }),
  };
}

export type LoggedModelCommands = ReturnType<typeof createLoggedModelCommands>;
