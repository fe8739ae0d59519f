import { NotFound, type ModelStage as DomainModelStage } from '@chronicle/domain';
import {
  arg,
  booleanArg,
  enumType,
  floatArg,
  inputObjectType,
  intArg,
  list,
  mutationField,
  nonNull,
  objectType,
  queryField,
  stringArg,
} from 'nexus';
import { asOfArg } from './as-of.js';
import { commandContext, type GraphQLContext } from './context.js';

export const ModelStage = enumType({
  name: 'ModelStage',
  members: { NONE: 'None', STAGING: 'Staging', PRODUCTION: 'Production', ARCHIVED: 'Archived' },
});

export const ModelCard = objectType({
  name: 'ModelCard',
  description: 'What the model is for and where it falls short.',
  definition(t) {
    t.nonNull.string('intendedUse');
    t.nonNull.string('limitations');
    t.nonNull.string('trainingData');
    t.nonNull.string('evaluation');
    t.nonNull.list.nonNull.string('owners');
  },
});

export const ModelCardInput = inputObjectType({
  name: 'ModelCardInput',
  definition(t) {
    t.string('intendedUse');
    t.string('limitations');
    t.string('trainingData');
    t.string('evaluation');
    t.list.nonNull.string('owners');
  },
});

export const RegisteredModel = objectType({
  name: 'RegisteredModel',
  definition(t) {
    t.nonNull.string('name');
    t.nonNull.string('description');
    t.nonNull.list.nonNull.field('tags', { type: 'KeyValue' });
    t.nonNull.field('card', { type: 'ModelCard' });
    t.nonNull.int('latestVersion', { description: 'Highest version number ever created (0 if none).' });
    t.nonNull.float('createdAt');
    t.nonNull.float('updatedAt');
    t.nonNull.string('createdBy');
    t.nonNull.list.nonNull.field('versions', {
      type: 'ModelVersion',
      args: { includeDeleted: booleanArg({ default: false }) },
      resolve: (m, { includeDeleted }, ctx) => ctx.read.models.versions(m.name, { includeDeleted: includeDeleted ?? false }),
    });
    t.nonNull.list.nonNull.field('aliases', { type: 'ModelAlias', resolve: (m, _a, ctx) => ctx.read.models.aliases(m.name) });
  },
});

export const ModelVersion = objectType({
  name: 'ModelVersion',
  definition(t) {
    t.nonNull.string('model');
    t.nonNull.int('version');
    t.nonNull.id('runId');
    t.field('run', { type: 'Run', resolve: (v, _a, ctx) => ctx.read.runs.get(v.runId) });
    t.nonNull.string('artifactPath');
    t.nonNull.string('sha256', { description: 'The immutable content this version is.' });
    t.nonNull.float('size');
    t.string('format');
    t.json('signature');
    t.nonNull.string('description');
    t.nonNull.field('stage', { type: 'ModelStage' });
    t.nonNull.boolean('deleted');
    t.nonNull.list.nonNull.string('aliases', { resolve: (v, _a, ctx) => ctx.read.models.aliasesOfVersion(v.model, v.version) });
    t.nonNull.float('createdAt');
    t.nonNull.string('createdBy');
    t.string('source', { description: 'Where the registering MLflow client said the files are (its `source` URI); null for versions registered natively.' });
    t.nonNull.list.nonNull.field('tags', { type: 'KeyValue', description: 'Version tags (MLflow `set_model_version_tag`).' });
    t.string('loggedModelId', { description: 'The MLflow 3 logged model the version was registered from.' });
  },
});

export const ModelAlias = objectType({
  name: 'ModelAlias',
  definition(t) {
    t.nonNull.string('alias');
    t.nonNull.int('version');
    t.nonNull.float('setAt');
    t.nonNull.string('setBy');
  },
});

export const PointerPeriod = objectType({
  name: 'PointerPeriod',
  description: 'A span of time during which a version held an alias or sat in a stage; toTime null: it still does.',
  definition(t) {
    t.nonNull.string('model');
    t.string('alias');
    t.field('stage', { type: 'ModelStage' });
    t.nonNull.int('version');
    t.nonNull.float('fromPosition', { description: 'Log position of the change that started the period.' });
    t.nonNull.float('fromTime');
    t.float('toTime');
    t.nonNull.string('setBy');
  },
});

function modelOrFail(ctx: GraphQLContext, name: string) {
  const m = ctx.read.models.get(name);
  if (!m) throw new NotFound(`model ${name} does not exist`, { model: name });
  return m;
}

function versionOrFail(ctx: GraphQLContext, name: string, version: number) {
  const v = ctx.read.models.version(name, version);
  if (!v) throw new NotFound(`model ${name} has no version ${version}`, { model: name, version });
  return v;
}

export const modelsQuery = queryField('models', {
  type: nonNull(list(nonNull('RegisteredModel'))),
  args: { nameContains: stringArg(), asOf: asOfArg() },
  resolve: (_r, { nameContains }, ctx) => ctx.read.models.list(nameContains ? { nameContains } : {}),
});

export const modelQuery = queryField('model', {
  type: 'RegisteredModel',
  args: { name: nonNull(stringArg()), asOf: asOfArg() },
  resolve: (_r, { name }, ctx) => modelOrFail(ctx, name),
});

export const modelVersionQuery = queryField('modelVersion', {
  type: 'ModelVersion',
  args: { model: nonNull(stringArg()), version: nonNull(intArg()), asOf: asOfArg() },
  resolve: (_r, { model, version }, ctx) => versionOrFail(ctx, model, version),
});

export const resolveModelQuery = queryField('resolveModel', {
  type: nonNull('ModelVersion'),
  description: 'The version a reference names now: `name@alias`, `name/Production` (the newest version in the stage) or `name/3`.',
  args: { ref: nonNull(stringArg()), asOf: asOfArg() },
  resolve: (_r, { ref }, ctx) => ctx.read.models.resolve(ref),
});

export const aliasHistoryQuery = queryField('aliasHistory', {
  type: nonNull(list(nonNull('PointerPeriod'))),
  description: 'Which versions held the alias and who set them, oldest first; with `at` (ms), only the holder at that instant.',
  args: { model: nonNull(stringArg()), alias: nonNull(stringArg()), at: floatArg(), asOf: asOfArg() },
  resolve: (_r, { model, alias, at }, ctx) => ctx.read.models.aliasHistory(modelOrFail(ctx, model).name, alias, at ?? undefined),
});

export const stageHistoryQuery = queryField('stageHistory', {
  type: nonNull(list(nonNull('PointerPeriod'))),
  description: 'Which versions sat in the stage and who moved them there; with `at` (ms), those in it at that instant.',
  args: { model: nonNull(stringArg()), stage: nonNull(arg({ type: 'ModelStage' })), at: floatArg(), asOf: asOfArg() },
  resolve: (_r, { model, stage, at }, ctx) =>
    ctx.read.models.stageHistory(modelOrFail(ctx, model).name, stage as DomainModelStage, at ?? undefined),
});

export const RegisterModelInput = inputObjectType({
  name: 'RegisterModelInput',
  definition(t) {
    t.nonNull.string('name', { description: 'Letters, digits, dots, dashes, underscores; unique.' });
    t.string('description');
    t.list.nonNull.field('tags', { type: 'KeyValueInput' });
    t.field('card', { type: 'ModelCardInput' });
  },
});

export const CreateModelVersionInput = inputObjectType({
  name: 'CreateModelVersionInput',
  definition(t) {
    t.nonNull.string('model');
    t.nonNull.id('runId');
    t.nonNull.string('artifactPath', { description: "Path of one of the run's artifacts; the version points at its content hash." });
    t.string('format');
    t.json('signature');
    t.string('description');
  },
});

const present = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;

export const registerModel = mutationField('registerModel', {
  type: nonNull('RegisteredModel'),
  args: { input: nonNull(arg({ type: 'RegisterModelInput' })), idempotencyKey: stringArg() },
  async resolve(_r, { input, idempotencyKey }, ctx) {
    const card = input.card
      ? Object.fromEntries(Object.entries(input.card).filter(([, v]) => present(v)))
      : {};
    const { model } = await ctx.commands.models.register(commandContext(ctx, idempotencyKey), {
      name: input.name,
      ...(present(input.description) ? { description: input.description } : {}),
      ...(present(input.tags) ? { tags: input.tags } : {}),
      card,
    });
    return modelOrFail(ctx, model);
  },
});

export const createModelVersion = mutationField('createModelVersion', {
  type: nonNull('ModelVersion'),
  description: 'Registers a run artifact as the next version (1, 2, 3... with no gaps).',
  args: { input: nonNull(arg({ type: 'CreateModelVersionInput' })), idempotencyKey: stringArg() },
  async resolve(_r, { input, idempotencyKey }, ctx) {
    const { model, version } = await ctx.commands.models.createVersion(commandContext(ctx, idempotencyKey), {
      model: input.model,
      runId: input.runId,
      artifactPath: input.artifactPath,
      format: input.format ?? null,
      signature: (input.signature as Record<string, unknown> | null | undefined) ?? null,
      ...(present(input.description) ? { description: input.description } : {}),
    });
    return versionOrFail(ctx, model, version);
  },
});

/** 0 stands for "no version holds it": versions start at 1. */
const expectedHolder = (v: number | null | undefined) => (present(v) ? (v === 0 ? null : v) : undefined);

export const setModelAlias = mutationField('setModelAlias', {
  type: nonNull('ModelVersion'),
  description:
    'Points the alias at a version. With expectedCurrentVersion (0: no version), it is a compare-and-set: if another version holds the alias now, the answer is CONFLICT and nothing changes.',
  args: {
    model: nonNull(stringArg()),
    alias: nonNull(stringArg()),
    version: nonNull(intArg()),
    expectedCurrentVersion: intArg(),
    idempotencyKey: stringArg(),
  },
  async resolve(_r, args, ctx) {
    const expected = expectedHolder(args.expectedCurrentVersion);
    await ctx.commands.models.setAlias(commandContext(ctx, args.idempotencyKey), {
      model: args.model,
      alias: args.alias,
      version: args.version,
      ...(expected !== undefined ? { expectedCurrentVersion: expected } : {}),
    });
    return versionOrFail(ctx, args.model, args.version);
  },
});

export const removeModelAlias = mutationField('removeModelAlias', {
  type: nonNull('RegisteredModel'),
  args: { model: nonNull(stringArg()), alias: nonNull(stringArg()), expectedCurrentVersion: intArg(), idempotencyKey: stringArg() },
  async resolve(_r, args, ctx) {
    const expected = expectedHolder(args.expectedCurrentVersion);
    await ctx.commands.models.removeAlias(commandContext(ctx, args.idempotencyKey), {
      model: args.model,
      alias: args.alias,
      ...(expected !== undefined ? { expectedCurrentVersion: expected } : {}),
    });
    return modelOrFail(ctx, args.model);
  },
});

export const transitionStage = mutationField('transitionStage', {
  type: nonNull('ModelVersion'),
  description: 'Moves a version to a stage; archiveExisting archives the other versions in that stage in the same change.',
  args: {
    model: nonNull(stringArg()),
    version: nonNull(intArg()),
    stage: nonNull(arg({ type: 'ModelStage' })),
    archiveExisting: booleanArg({ default: false }),
    expectedCurrentStage: arg({ type: 'ModelStage' }),
    idempotencyKey: stringArg(),
  },
  async resolve(_r, args, ctx) {
    await ctx.commands.models.transitionStage(commandContext(ctx, args.idempotencyKey), {
      model: args.model,
      version: args.version,
      stage: args.stage as DomainModelStage,
      archiveExisting: args.archiveExisting ?? false,
      ...(present(args.expectedCurrentStage) ? { expectedCurrentStage: args.expectedCurrentStage as DomainModelStage } : {}),
    });
    return versionOrFail(ctx, args.model, args.version);
  },
});

export const deleteModelVersion = mutationField('deleteModelVersion', {
  type: nonNull('ModelVersion'),
  description: 'Soft-deletes a version; refused while it holds an alias. Its number is never reused.',
  args: { model: nonNull(stringArg()), version: nonNull(intArg()), idempotencyKey: stringArg() },
  async resolve(_r, args, ctx) {
    await ctx.commands.models.deleteVersion(commandContext(ctx, args.idempotencyKey), { model: args.model, version: args.version });
    return versionOrFail(ctx, args.model, args.version);
  },
});
