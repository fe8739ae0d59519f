import {
  datasetDecider,
  datasetStream,
  datasetVersionId,
  requireRole,
  resolveDatasetVersion,
  runDecider,
  runLineageDecider,
  runLineageStream,
  runStream,
  validateDatasetName,
  NotFound,
  actorOf,
  type DatasetCommand,
  type DatasetVersionFact,
  type ManifestFact,
  type RunFact,
} from '@chronicle/domain';
import { handleCommand, loadState, type AppendResult, type EventStore, type StateCache } from '@chronicle/event-store';
import { metaFor, type CommandContext } from './context.js';

/**
 * Reads a committed manifest from wherever manifests are stored and states what the event
 * records about it; throws when it is malformed or names content that was never uploaded.
 */
export type ManifestInspector = (sha256: string) => Promise<ManifestFact>;

export interface DatasetDeps {
  store: EventStore;
  clock: () => number;
  cache: StateCache;
  done<T extends object>(res: AppendResult, value: T): Promise<T & { position: number; replayed: boolean }>;
  inspectManifest?: ManifestInspector;
}

/** A dataset version as a caller names it: a number, or a tag. */
export type DatasetVersionRef = number | string;

export interface CommitDatasetVersionInput {
  dataset: string;
  /** The version the commit builds on; null for the first one. */
  parentVersion: number | null;
  manifestSha256: string;
  message?: string;
  tags?: string[];
}

export interface DeclaredInput {
  dataset: string;
  version: DatasetVersionRef;
  /** train, validation, test or other; the decider refuses anything else. */
  role: string;
}

export interface DeclaredOutput {
  dataset: string;
  version: DatasetVersionRef;
}

// Two people committing one dataset race on its stream; a lost race re-decides and then
// (the parent being stale) reports CONFLICT, so a few retries suffice.
const DATASET_STREAM_RETRIES = 8;

/** Datasets, their versions, and the inputs and outputs runs declare: the commands behind data lineage. */
export function createDatasetCommands(deps: DatasetDeps) {
  const { store, clock, cache, done } = deps;

  async function onDataset(ctx: CommandContext, name: string, input: unknown, command: Parameters<typeof datasetDecider.decide>[0]) {
    return handleCommand(store, datasetStream(validateDatasetName(name)), datasetDecider, command, {
      meta: metaFor(ctx, command.type, input, { dataset: name }),
      cache,
      retries: DATASET_STREAM_RETRIES,
    });
  }

  async function resolve(name: string, ref: DatasetVersionRef): Promise<DatasetVersionFact> {
    const { state } = await loadState(store, datasetStream(validateDatasetName(name)), datasetDecider, cache);
    if (!state.created) throw new NotFound(`dataset ${name} does not exist`, { dataset: name });
    const versionNumber = resolveDatasetVersion(state, ref);
    return {
      datasetName: name,
      versionId: datasetVersionId(name, versionNumber),
      versionNumber,
      deprecated: state.versions[versionNumber]!.deprecated,
    };
  }

  async function runFact(runId: string): Promise<RunFact> {
    const { state } = await loadState(store, runStream(runId), runDecider, cache);
    return state.status === 'none' ? null : { deleted: state.deleted };
  }

  const datasets = {
    async create(ctx: CommandContext, input: { name: string; description?: string }) {
      requireRole(ctx.principal, 'member', 'creating datasets');
      const res = await onDataset(ctx, input.name, input, {
        type: 'CreateDataset',
        data: { name: input.name, description: input.description ?? '', at: clock() },
      });
      return done(res, { dataset: input.name });
    },

    async commit(ctx: CommandContext, input: CommitDatasetVersionInput) {
      requireRole(ctx.principal, 'member', 'committing dataset versions');
      if (!deps.inspectManifest) throw new Error('no manifest inspector configured');
      const manifest = await deps.inspectManifest(input.manifestSha256);
      const meta = metaFor(ctx, 'CommitDatasetVersion', input);
      const res = await handleCommand(
        store,
        datasetStream(validateDatasetName(input.dataset)),
        datasetDecider,
        (state): DatasetCommand => {
          // A retry with the same key must answer with the version this attempt decides.
          if (meta.idempotencyKey) {
            const unchanged = state.head > 0 && state.versions[state.head]!.manifestSha256 === manifest.sha256;
            const version = unchanged ? state.head : state.head + 1;
            meta.result = { dataset: input.dataset, version, versionId: datasetVersionId(input.dataset, version), changed: !unchanged };
          }
          return {
            type: 'CommitDatasetVersion',
            data: {
              name: input.dataset,
              parentVersion: input.parentVersion,
              manifest,
              message: input.message ?? '',
              author: actorOf(ctx.principal),
              tags: input.tags ?? [],
              at: clock(),
            },
          };
        },
        { meta, cache, retries: DATASET_STREAM_RETRIES },
      );
      const version = res.state.head;
      return done(res, {
        dataset: input.dataset,
        version,
        versionId: datasetVersionId(input.dataset, version),
        changed: res.events.some((e) => e.type === 'DatasetVersionCommitted'),
      });
    },

    async tag(ctx: CommandContext, input: { dataset: string; version: DatasetVersionRef; tag: string }) {
      requireRole(ctx.principal, 'member', 'tagging dataset versions');
      const { versionNumber } = await resolve(input.dataset, input.version);
      const res = await onDataset(ctx, input.dataset, input, {
        type: 'TagDatasetVersion',
        data: { name: input.dataset, version: versionNumber, tag: input.tag, at: clock() },
      });
      return done(res, { dataset: input.dataset, version: versionNumber });
    },

    async deprecate(ctx: CommandContext, input: { dataset: string; version: DatasetVersionRef; reason: string }) {
      requireRole(ctx.principal, 'member', 'deprecating dataset versions');
      const { versionNumber } = await resolve(input.dataset, input.version);
      const res = await onDataset(ctx, input.dataset, input, {
        type: 'DeprecateDatasetVersion',
        data: { name: input.dataset, version: versionNumber, reason: input.reason, at: clock() },
      });
      return done(res, { dataset: input.dataset, version: versionNumber });
    },
  };

  const lineage = {
    async declareInputs(ctx: CommandContext, input: { runId: string; inputs: DeclaredInput[] }) {
      requireRole(ctx.principal, 'member', 'declaring run inputs');
      const resolved = await Promise.all(input.inputs.map(async (i) => ({ ...(await resolve(i.dataset, i.version)), role: i.role })));
      const run = await runFact(input.runId);
      const res = await handleCommand(
        store,
        runLineageStream(input.runId),
        runLineageDecider,
        { type: 'DeclareRunInputs', data: { runId: input.runId, run, inputs: resolved, at: clock() } },
        { meta: metaFor(ctx, 'DeclareRunInputs', input, { runId: input.runId }), cache },
      );
      return done(res, { runId: input.runId });
    },

    async declareOutputs(ctx: CommandContext, input: { runId: string; outputs: DeclaredOutput[] }) {
      requireRole(ctx.principal, 'member', 'declaring run outputs');
      const resolved = await Promise.all(input.outputs.map((o) => resolve(o.dataset, o.version)));
      const run = await runFact(input.runId);
      const res = await handleCommand(
        store,
        runLineageStream(input.runId),
        runLineageDecider,
        { type: 'DeclareRunOutputs', data: { runId: input.runId, run, outputs: resolved, at: clock() } },
        { meta: metaFor(ctx, 'DeclareRunOutputs', input, { runId: input.runId }), cache },
      );
      return done(res, { runId: input.runId });
    },
  };

  return { datasets, lineage };
}
