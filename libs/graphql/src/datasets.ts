import { NotFound, ValidationFailed } from '@chronicle/domain';
import { diffManifests } from '@chronicle/datasets';
import type { DatasetVersionView } from '@chronicle/projections';
import { enumType, extendType, inputObjectType, intArg, list, mutationField, nonNull, objectType, queryField, stringArg } from 'nexus';
import { asOfArg } from './as-of.js';
import { commandContext, type GraphQLContext } from './context.js';

export const TabularSummary = objectType({
  name: 'TabularSummary',
  description: 'Header and data-row count of one CSV file (Parquet is not summarised).',
  definition(t) {
    t.nonNull.string('path');
    t.nonNull.list.nonNull.string('columns');
    t.nonNull.int('rows');
  },
});

export const Dataset = objectType({
  name: 'Dataset',
  definition(t) {
    t.nonNull.string('name');
    t.nonNull.string('description');
    t.nonNull.int('latestVersion', { description: 'The head of the linear history (0: no version yet).' });
    t.nonNull.float('createdAt');
    t.nonNull.float('updatedAt');
    t.nonNull.string('createdBy');
    t.nonNull.list.nonNull.field('versions', { type: 'DatasetVersion', resolve: (d, _a, ctx) => ctx.read.datasets.versions(d.name) });
  },
});

export const DatasetVersion = objectType({
  name: 'DatasetVersion',
  definition(t) {
    t.nonNull.string('dataset');
    t.nonNull.int('version');
    t.nonNull.string('versionId', { description: '`<dataset>@<version>`; as a lineage node: `dataset_version:<versionId>`.' });
    t.int('parentVersion');
    t.field('parent', {
      type: 'DatasetVersion',
      resolve: (v, _a, ctx) => (v.parentVersion === null ? null : ctx.read.datasets.version(v.dataset, v.parentVersion)),
    });
    t.nonNull.string('manifestSha256', { description: 'The blob holding the canonical NDJSON manifest (path, sha256, size per file).' });
    t.nonNull.int('fileCount');
    t.nonNull.float('totalBytes');
    t.nonNull.list.nonNull.field('tabular', { type: 'TabularSummary' });
    t.nonNull.string('message');
    t.nonNull.string('author');
    t.nonNull.list.nonNull.string('tags');
    t.nonNull.boolean('deprecated');
    t.string('deprecationReason');
    t.nonNull.float('createdAt');
  },
});

export const DatasetFile = objectType({
  name: 'DatasetFile',
  definition(t) {
    t.nonNull.string('path');
    t.nonNull.float('size');
    t.nonNull.string('sha256');
  },
});

export const ModifiedDatasetFile = objectType({
  name: 'ModifiedDatasetFile',
  definition(t) {
    t.nonNull.string('path');
    t.nonNull.string('oldSha256');
    t.nonNull.string('newSha256');
    t.nonNull.float('oldSize');
    t.nonNull.float('newSize');
  },
});

export const CsvChange = objectType({
  name: 'CsvChange',
  definition(t) {
    t.nonNull.string('path');
    t.int('rowsBefore', { description: 'Null: the file is new, or was not summarised.' });
    t.int('rowsAfter', { description: 'Null: the file was removed, or was not summarised.' });
    t.nonNull.list.nonNull.string('columnsAdded');
    t.nonNull.list.nonNull.string('columnsRemoved');
  },
});

export const DatasetDiff = objectType({
  name: 'DatasetDiff',
  definition(t) {
    t.nonNull.field('from', { type: 'DatasetVersion' });
    t.nonNull.field('to', { type: 'DatasetVersion' });
    t.nonNull.list.nonNull.field('added', { type: 'DatasetFile' });
    t.nonNull.list.nonNull.field('removed', { type: 'DatasetFile' });
    t.nonNull.list.nonNull.field('modified', { type: 'ModifiedDatasetFile' });
    t.nonNull.int('unchangedCount');
    t.nonNull.float('bytesAdded');
    t.nonNull.float('bytesRemoved');
    t.nonNull.float('bytesChanged', { description: 'Bytes of added files plus the new size of modified ones.' });
    t.nonNull.list.nonNull.field('csv', { type: 'CsvChange' });
  },
});

export const LineageNodeKind = enumType({
  name: 'LineageNodeKind',
  members: { DATASET_VERSION: 'dataset_version', RUN: 'run', MODEL_VERSION: 'model_version', DEPLOYMENT: 'deployment' },
});

export const LineageNode = objectType({
  name: 'LineageNode',
  definition(t) {
    t.nonNull.string('node', { description: '`<kind>:<id>`: pass it to lineage or impact.' });
    t.nonNull.field('kind', { type: 'LineageNodeKind' });
    t.nonNull.string('id');
    t.nonNull.int('depth', { description: 'Hops from the node the walk started at.' });
    t.field('datasetVersion', {
      type: 'DatasetVersion',
      resolve: (n, _a, ctx) => (n.kind === 'dataset_version' ? ctx.read.datasets.versionById(n.id) : null),
    });
    t.field('run', { type: 'Run', description: 'With its source (code commit) and params.', resolve: (n, _a, ctx) => (n.kind === 'run' ? ctx.read.runs.get(n.id) : null) });
    t.field('modelVersion', {
      type: 'ModelVersion',
      resolve: (n, _a, ctx) => {
        if (n.kind !== 'model_version') return null;
        const slash = n.id.lastIndexOf('/');
        return ctx.read.models.version(n.id.slice(0, slash), Number(n.id.slice(slash + 1)));
      },
    });
  },
});

export const LineageEdge = objectType({
  name: 'LineageEdge',
  description: 'Points the way data flows: parent → child version, data → run (input), run → data (output), run → model version → deployment.',
  definition(t) {
    t.nonNull.string('from');
    t.nonNull.string('to');
    t.nonNull.string('relation', { description: 'parent, input, output, produced or deployed.' });
    t.nonNull.string('role', { description: "An input's role (train, validation, test, other); empty otherwise." });
  },
});

export const LineageGraph = objectType({
  name: 'LineageGraph',
  definition(t) {
    t.nonNull.string('root');
    t.nonNull.list.nonNull.field('nodes', { type: 'LineageNode' });
    t.nonNull.list.nonNull.field('edges', { type: 'LineageEdge' });
  },
});

export const RunInput = objectType({
  name: 'RunInput',
  definition(t) {
    t.nonNull.string('datasetName');
    t.nonNull.string('versionId');
    t.nonNull.int('versionNumber');
    t.nonNull.string('role');
  },
});

export const RunOutput = objectType({
  name: 'RunOutput',
  definition(t) {
    t.nonNull.string('datasetName');
    t.nonNull.string('versionId');
    t.nonNull.int('versionNumber');
  },
});

export const RunLineageFields = extendType({
  type: 'Run',
  definition(t) {
    t.nonNull.list.nonNull.field('inputs', { type: 'RunInput', resolve: (r, _a, ctx) => ctx.read.lineage.runInputs(r.runId) });
    t.nonNull.list.nonNull.field('outputs', { type: 'RunOutput', resolve: (r, _a, ctx) => ctx.read.lineage.runOutputs(r.runId) });
  },
});

export const RunDataset = objectType({
  name: 'RunDataset',
  description: "A dataset a run used, as MLflow's log-inputs describes it: a reference (name, digest, source), not stored content.",
  definition(t) {
    t.nonNull.string('name');
    t.nonNull.string('digest');
    t.nonNull.string('sourceType');
    t.nonNull.string('source');
    t.nonNull.string('schema');
    t.nonNull.string('profile');
    t.nonNull.list.nonNull.field('tags', { type: 'KeyValue', description: 'e.g. mlflow.data.context = training' });
    t.nonNull.float('loggedAt');
  },
});

export const RunDatasetFields = extendType({
  type: 'Run',
  definition(t) {
    t.nonNull.list.nonNull.field('datasets', {
      type: 'RunDataset',
      description: 'Datasets logged with MLflow log_input, in the order they were logged.',
      resolve: (r, _a, ctx) => ctx.read.runDatasets.list(r.runId),
    });
    t.nonNull.list.nonNull.string('modelInputs', {
      description: 'Ids of logged models the run used (MLflow 3 log_inputs with models).',
      resolve: (r, _a, ctx) => ctx.read.runDatasets.modelInputs(r.runId),
    });
  },
});

export const RunInputDeclaration = inputObjectType({
  name: 'RunInputDeclaration',
  definition(t) {
    t.nonNull.string('dataset');
    t.nonNull.string('version', { description: 'A version number or a tag.' });
    t.nonNull.string('role', { description: 'train, validation, test or other.' });
  },
});

export const RunOutputDeclaration = inputObjectType({
  name: 'RunOutputDeclaration',
  definition(t) {
    t.nonNull.string('dataset');
    t.nonNull.string('version', { description: 'A version number or a tag.' });
  },
});

export const CommitDatasetVersionResult = objectType({
  name: 'CommitDatasetVersionResult',
  definition(t) {
    t.nonNull.boolean('changed', { description: 'False: the manifest equals the head, so no version was recorded.' });
    t.nonNull.field('version', { type: 'DatasetVersion', description: 'The new version, or the unchanged head.' });
  },
});

function versionOrFail(ctx: GraphQLContext, dataset: string, ref: string): DatasetVersionView {
  return ctx.read.datasets.resolve(dataset, ref);
}

/** `images@3`, `images:gold`, `images` (latest), or the node form `dataset_version:images@3`. */
function parseVersionRef(ref: string): { dataset: string; version: string } {
  const bare = ref.startsWith('dataset_version:') ? ref.slice('dataset_version:'.length) : ref;
  const m = /^([^@:]+)(?:[@:](.+))?$/.exec(bare);
  if (!m) throw new ValidationFailed('a dataset version is <dataset>@<version>, <dataset>:<tag> or <dataset>', { ref });
  return { dataset: m[1]!, version: m[2] ?? 'latest' };
}

export const datasetsQuery = queryField('datasets', {
  type: nonNull(list(nonNull('Dataset'))),
  args: { nameContains: stringArg(), asOf: asOfArg() },
  resolve: (_r, { nameContains }, ctx) => ctx.read.datasets.list(nameContains ? { nameContains } : {}),
});

export const datasetQuery = queryField('dataset', {
  type: 'Dataset',
  args: { name: nonNull(stringArg()), asOf: asOfArg() },
  resolve(_r, { name }, ctx) {
    const d = ctx.read.datasets.get(name);
    if (!d) throw new NotFound(`dataset ${name} does not exist`, { dataset: name });
    return d;
  },
});

export const datasetVersionQuery = queryField('datasetVersion', {
  type: 'DatasetVersion',
  args: { dataset: nonNull(stringArg()), version: stringArg({ description: 'A number, a tag, or "latest" (the default).' }), asOf: asOfArg() },
  resolve: (_r, { dataset, version }, ctx) => versionOrFail(ctx, dataset, version ?? 'latest'),
});

export const datasetDiffQuery = queryField('datasetDiff', {
  type: nonNull('DatasetDiff'),
  args: { dataset: nonNull(stringArg()), from: nonNull(stringArg()), to: nonNull(stringArg()), asOf: asOfArg() },
  async resolve(_r, args, ctx) {
    if (!ctx.manifests) throw new Error('this server cannot read manifests');
    const from = versionOrFail(ctx, args.dataset, args.from);
    const to = versionOrFail(ctx, args.dataset, args.to);
    const [a, b] = await Promise.all([ctx.manifests.load(from.manifestSha256), ctx.manifests.load(to.manifestSha256)]);
    return { from, to, ...diffManifests(a, b, { from: from.tabular, to: to.tabular }) };
  },
});

export const lineageQuery = queryField('lineage', {
  type: nonNull('LineageGraph'),
  description: 'Backward: everything the node was made from (runs, code, params, dataset versions and their parents).',
  args: { node: nonNull(stringArg({ description: 'dataset_version:<d>@<n>, run:<id>, model_version:<m>/<n> or deployment:<id>' })), asOf: asOfArg() },
  resolve(_r, { node }, ctx) {
    if (!ctx.read.lineage.hasNode(node)) throw new NotFound(`no lineage node ${node}`, { node });
    return ctx.read.lineage.lineage(node);
  },
});

export const impactQuery = queryField('impact', {
  type: nonNull('LineageGraph'),
  description: 'Forward: every run, derived dataset version, model version and deployment that used this version.',
  args: { datasetVersion: nonNull(stringArg({ description: '<dataset>@<version> or <dataset>:<tag>' })), asOf: asOfArg() },
  resolve(_r, { datasetVersion }, ctx) {
    const ref = parseVersionRef(datasetVersion);
    const v = versionOrFail(ctx, ref.dataset, ref.version);
    return ctx.read.lineage.impact(`dataset_version:${v.versionId}`);
  },
});

export const createDatasetMutation = mutationField('createDataset', {
  type: nonNull('Dataset'),
  args: { name: nonNull(stringArg()), description: stringArg(), idempotencyKey: stringArg() },
  async resolve(_r, { name, description, idempotencyKey }, ctx) {
    await ctx.commands.datasets.create(commandContext(ctx, idempotencyKey), { name, description: description ?? '' });
    return ctx.read.datasets.get(name)!;
  },
});

export const commitDatasetVersionMutation = mutationField('commitDatasetVersion', {
  type: nonNull('CommitDatasetVersionResult'),
  description: 'Records a version whose manifest and files were uploaded to /api/v1/blobs. A stale parentVersion is a CONFLICT.',
  args: {
    dataset: nonNull(stringArg()),
    parentVersion: intArg({ description: 'The head the commit builds on; null for the first version.' }),
    manifestSha256: nonNull(stringArg()),
    message: stringArg(),
    tags: list(nonNull(stringArg())),
    idempotencyKey: stringArg(),
  },
  async resolve(_r, args, ctx) {
    const res = await ctx.commands.datasets.commit(commandContext(ctx, args.idempotencyKey), {
      dataset: args.dataset,
      parentVersion: args.parentVersion ?? null,
      manifestSha256: args.manifestSha256,
      message: args.message ?? '',
      tags: args.tags ?? [],
    });
    return { changed: res.changed, version: versionOrFail(ctx, args.dataset, String(res.version)) };
  },
});

export const tagDatasetVersionMutation = mutationField('tagDatasetVersion', {
  type: nonNull('DatasetVersion'),
  args: { dataset: nonNull(stringArg()), version: nonNull(stringArg()), tag: nonNull(stringArg()), idempotencyKey: stringArg() },
  async resolve(_r, { dataset, version, tag, idempotencyKey }, ctx) {
    const res = await ctx.commands.datasets.tag(commandContext(ctx, idempotencyKey), { dataset, version, tag });
    return versionOrFail(ctx, dataset, String(res.version));
  },
});

export const deprecateDatasetVersionMutation = mutationField('deprecateDatasetVersion', {
  type: nonNull('DatasetVersion'),
  args: { dataset: nonNull(stringArg()), version: nonNull(stringArg()), reason: nonNull(stringArg()), idempotencyKey: stringArg() },
  async resolve(_r, { dataset, version, reason, idempotencyKey }, ctx) {
    const res = await ctx.commands.datasets.deprecate(commandContext(ctx, idempotencyKey), { dataset, version, reason });
    return versionOrFail(ctx, dataset, String(res.version));
  },
});

export const declareRunInputsMutation = mutationField('declareRunInputs', {
  type: nonNull(list(nonNull('RunInput'))),
  description: "Declares dataset versions a run read, each with its role; returns all of the run's inputs.",
  args: { runId: nonNull(stringArg()), inputs: nonNull(list(nonNull('RunInputDeclaration'))), idempotencyKey: stringArg() },
  async resolve(_r, { runId, inputs, idempotencyKey }, ctx) {
    await ctx.commands.lineage.declareInputs(commandContext(ctx, idempotencyKey), {
      runId,
      inputs,
    });
    return ctx.read.lineage.runInputs(runId);
  },
});

export const declareRunOutputsMutation = mutationField('declareRunOutputs', {
  type: nonNull(list(nonNull('RunOutput'))),
  description: "Declares dataset versions a run produced; returns all of the run's outputs.",
  args: { runId: nonNull(stringArg()), outputs: nonNull(list(nonNull('RunOutputDeclaration'))), idempotencyKey: stringArg() },
  async resolve(_r, { runId, outputs, idempotencyKey }, ctx) {
    await ctx.commands.lineage.declareOutputs(commandContext(ctx, idempotencyKey), { runId, outputs });
    return ctx.read.lineage.runOutputs(runId);
  },
});
