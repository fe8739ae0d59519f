import { NotFound } from '@chronicle/domain';
import { arg, idArg, inputObjectType, list, mutationField, nonNull, objectType, queryField, stringArg } from 'nexus';
import { asOfArg } from './as-of.js';
import { commandContext, type GraphQLContext } from './context.js';

export const Experiment = objectType({
  name: 'Experiment',
  definition(t) {
    t.nonNull.id('id', { resolve: (e) => e.experimentId });
    t.nonNull.string('name');
    t.nonNull.string('description');
    t.nonNull.field('lifecycle', { type: 'Lifecycle' });
    t.nonNull.float('createdAt', { description: 'Milliseconds since the epoch.' });
    t.nonNull.float('updatedAt');
    t.nonNull.string('createdBy', { description: 'The actor who created it, e.g. `user:ada`.' });
    t.nonNull.list.nonNull.field('tags', { type: 'KeyValue', resolve: (e, _a, ctx) => ctx.read.experiments.tags(e.experimentId) });
    t.nonNull.int('runCount', {
      description: 'Active runs in the experiment.',
      resolve: (e, _a, ctx) => ctx.read.experiments.activeRunCount(e.experimentId),
    });
  },
});

export const experimentsQuery = queryField('experiments', {
  type: nonNull(list(nonNull('Experiment'))),
  args: { lifecycle: arg({ type: 'LifecycleFilter', default: 'active' }), nameContains: stringArg(), asOf: asOfArg() },
  resolve: (_r, args, ctx) =>
    ctx.read.experiments.list({ lifecycle: args.lifecycle ?? 'active', ...(args.nameContains ? { nameContains: args.nameContains } : {}) }),
});

export const experimentQuery = queryField('experiment', {
  type: 'Experiment',
  description: 'One experiment, by id or by name.',
  args: { id: idArg(), name: stringArg(), asOf: asOfArg() },
  resolve(_r, args, ctx) {
    const e = args.id ? ctx.read.experiments.get(args.id) : args.name ? ctx.read.experiments.getByName(args.name) : null;
    if (!e) throw new NotFound(`no experiment with ${args.id ? `id ${args.id}` : `name "${args.name ?? ''}"`}`);
    return e;
  },
});

export const CreateExperimentInput = inputObjectType({
  name: 'CreateExperimentInput',
  definition(t) {
    t.nonNull.string('name');
    t.string('description');
    t.list.nonNull.field('tags', { type: 'KeyValueInput' });
  },
});

function experimentAfter(ctx: GraphQLContext, experimentId: string) {
  const e = ctx.read.experiments.get(experimentId);
  if (!e) throw new NotFound(`experiment ${experimentId} does not exist`);
  return e;
}

export const createExperiment = mutationField('createExperiment', {
  type: nonNull('Experiment'),
  args: { input: nonNull(arg({ type: 'CreateExperimentInput' })), idempotencyKey: stringArg() },
  async resolve(_r, { input, idempotencyKey }, ctx) {
    const { experimentId } = await ctx.commands.experiments.create(commandContext(ctx, idempotencyKey), {
      name: input.name,
      description: input.description ?? '',
      tags: input.tags ?? [],
    });
    return experimentAfter(ctx, experimentId);
  },
});

export const deleteExperiment = mutationField('deleteExperiment', {
  type: nonNull('Experiment'),
  description: 'Soft-deletes an experiment: it leaves lists and searches until restored. Its name stays taken.',
  args: { id: nonNull(idArg()), idempotencyKey: stringArg() },
  async resolve(_r, { id, idempotencyKey }, ctx) {
    await ctx.commands.experiments.delete(commandContext(ctx, idempotencyKey), id);
    return experimentAfter(ctx, id);
  },
});

export const restoreExperiment = mutationField('restoreExperiment', {
  type: nonNull('Experiment'),
  args: { id: nonNull(idArg()), idempotencyKey: stringArg() },
  async resolve(_r, { id, idempotencyKey }, ctx) {
    await ctx.commands.experiments.restore(commandContext(ctx, idempotencyKey), id);
    return experimentAfter(ctx, id);
  },
});

export const setExperimentTags = mutationField('setExperimentTags', {
  type: nonNull('Experiment'),
  args: { id: nonNull(idArg()), tags: nonNull(list(nonNull('KeyValueInput'))), idempotencyKey: stringArg() },
  async resolve(_r, { id, tags, idempotencyKey }, ctx) {
    await ctx.commands.experiments.setTags(commandContext(ctx, idempotencyKey), id, tags);
    return experimentAfter(ctx, id);
  },
});
