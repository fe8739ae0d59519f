import { NotFound } from '@chronicle/domain';
import {
  arg,
  enumType,
  floatArg,
  idArg,
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

export const RunStatus = enumType({ name: 'RunStatus', members: ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'] });
export const TerminalStatus = enumType({
  name: 'TerminalStatus',
  description: 'How a run ended.',
  members: ['FINISHED', 'FAILED', 'KILLED'],
});

export const RunSource = objectType({
  name: 'RunSource',
  description: 'The code that produced the run.',
  definition(t) {
    t.string('gitCommit');
    t.string('gitRepo');
    t.string('source', { description: 'Script, notebook or module that ran.' });
    t.string('entryPoint');
  },
});

export const LatestMetric = objectType({
  name: 'LatestMetric',
  description: "A metric's latest value: the one at the greatest step (then timestamp), as in MLflow.",
  definition(t) {
    t.nonNull.string('key');
    t.nonNull.metricValue('value');
    t.nonNull.float('step');
    t.nonNull.float('timestamp');
    t.nonNull.int('count', { description: 'Points logged for this key.' });
  },
});

export const Run = objectType({
  name: 'Run',
  definition(t) {
    t.nonNull.id('id', { resolve: (r) => r.runId });
    t.nonNull.id('experimentId');
    t.field('experiment', { type: 'Experiment', resolve: (r, _a, ctx) => ctx.read.experiments.get(r.experimentId) });
    t.nonNull.string('name');
    t.nonNull.field('status', { type: 'RunStatus' });
    t.nonNull.field('lifecycle', { type: 'Lifecycle' });
    t.nonNull.float('startTime', { description: 'Milliseconds since the epoch.' });
    t.float('endTime');
    t.id('parentRunId');
    t.field('parent', {
      type: 'Run',
      resolve: (r, _a, ctx) => (r.parentRunId ? ctx.read.runs.get(r.parentRunId) : null),
    });
    t.nonNull.list.nonNull.field('children', { type: 'Run', resolve: (r, _a, ctx) => ctx.read.runs.children(r.runId) });
    t.nonNull.string('userId', { description: 'Who started the run.' });
    t.nonNull.field('source', { type: 'RunSource' });
    t.nonNull.json('environment');
    t.nonNull.list.nonNull.field('params', { type: 'KeyValue', resolve: (r, _a, ctx) => ctx.read.runs.params(r.runId) });
    t.nonNull.list.nonNull.field('tags', { type: 'KeyValue', resolve: (r, _a, ctx) => ctx.read.runs.tags(r.runId) });
    t.nonNull.list.nonNull.field('metrics', {
      type: 'LatestMetric',
      resolve: (r, _a, ctx) => ctx.read.runs.latestMetrics(r.runId),
    });
    t.field('metric', {
      type: 'LatestMetric',
      args: { key: nonNull(stringArg()) },
      resolve: (r, { key }, ctx) => ctx.read.runs.latestMetrics(r.runId).find((m) => m.key === key) ?? null,
    });
  },
});

export const RunConnection = objectType({
  name: 'RunConnection',
  definition(t) {
    t.nonNull.list.nonNull.field('nodes', { type: 'Run' });
    t.nonNull.field('pageInfo', { type: 'PageInfo', resolve: (p) => ({ endCursor: p.endCursor, hasNextPage: p.hasNextPage }) });
    t.nonNull.int('totalCount', { description: 'Runs matching the search, over all pages.', resolve: (p) => p.totalCount() });
  },
});

export const runsQuery = queryField('runs', {
  type: nonNull('RunConnection'),
  description:
    'Searches runs. `filter` is MLflow\'s search syntax plus OR, NOT and parentheses, e.g. `metrics.acc > 0.9 and (params.model = \'xgb\' or tags.team LIKE \'vis%\')`. `orderBy` items look like `metrics.acc DESC`.',
  args: {
    experimentIds: list(nonNull(idArg())),
    filter: stringArg(),
    orderBy: list(nonNull(stringArg())),
    lifecycle: arg({ type: 'LifecycleFilter', default: 'active' }),
    first: intArg({ default: 50 }),
    after: stringArg(),
    asOf: asOfArg(),
  },
  resolve(_r, args, ctx) {
    const search = {
      experimentIds: args.experimentIds ?? [],
      filter: args.filter ?? null,
      orderBy: args.orderBy ?? [],
      lifecycle: args.lifecycle ?? 'active',
      first: args.first ?? 50,
      after: args.after ?? null,
    };
    return ctx.read.runs.search(search);
  },
});

export const runQuery = queryField('run', {
  type: 'Run',
  args: { id: nonNull(idArg()), asOf: asOfArg() },
  resolve: (_r, { id }, ctx) => runAfter(ctx, id),
});

function runAfter(ctx: GraphQLContext, runId: string) {
  const r = ctx.read.runs.get(runId);
  if (!r) throw new NotFound(`run ${runId} does not exist`, { runId });
  return r;
}

export const RunSourceInput = inputObjectType({
  name: 'RunSourceInput',
  definition(t) {
    t.string('gitCommit');
    t.string('gitRepo');
    t.string('source');
    t.string('entryPoint');
  },
});

export const StartRunInput = inputObjectType({
  name: 'StartRunInput',
  definition(t) {
    t.nonNull.id('experimentId');
    t.id('runId', { description: 'Optional client-chosen id (1-64 letters, digits, - or _).' });
    t.string('name');
    t.list.nonNull.field('tags', { type: 'KeyValueInput' });
    t.id('parentRunId', { description: 'Nests this run under another run of the same experiment.' });
    t.field('source', { type: 'RunSourceInput' });
    t.json('environment', { description: 'Free-form: library versions, hardware, anything that helps reproduce.' });
    t.float('startTime', { description: 'Milliseconds since the epoch; defaults to now.' });
  },
});

export const MetricInput = inputObjectType({
  name: 'MetricInput',
  definition(t) {
    t.nonNull.string('key');
    t.nonNull.metricValue('value');
    t.float('step', { description: 'Integer step; defaults to 0.' });
    t.float('timestamp', { description: 'Milliseconds since the epoch; defaults to now.' });
  },
});

const compact = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as {
    [K in keyof T]?: NonNullable<T[K]>;
  };

export const startRun = mutationField('startRun', {
  type: nonNull('Run'),
  args: { input: nonNull(arg({ type: 'StartRunInput' })), idempotencyKey: stringArg() },
  async resolve(_r, { input, idempotencyKey }, ctx) {
    const { runId } = await ctx.commands.runs.start(commandContext(ctx, idempotencyKey), {
      experimentId: input.experimentId,
      ...compact({ runId: input.runId, name: input.name, tags: input.tags, parentRunId: input.parentRunId, startTime: input.startTime, reproductionOf: input.reproductionOf }),
      source: input.source ? compact(input.source) : {},
      environment: (input.environment as Record<string, unknown> | null) ?? {},
    });
    return runAfter(ctx, runId);
  },
});

export const logParams = mutationField('logParams', {
  type: nonNull('Run'),
  description: 'Params are immutable: logging the same value again is fine, a different value is refused.',
  args: { runId: nonNull(idArg()), params: nonNull(list(nonNull('KeyValueInput'))), idempotencyKey: stringArg() },
  async resolve(_r, { runId, params, idempotencyKey }, ctx) {
    await ctx.commands.runs.logParams(commandContext(ctx, idempotencyKey), runId, params);
    return runAfter(ctx, runId);
  },
});

export const LogMetricsPayload = objectType({
  name: 'LogMetricsPayload',
  definition(t) {
    t.nonNull.int('accepted');
    t.nonNull.float('position', { description: 'Global log position of the batch.' });
    t.nonNull.field('run', { type: 'Run' });
  },
});

export const logMetrics = mutationField('logMetrics', {
  type: nonNull('LogMetricsPayload'),
  description: 'Logs a batch of metric points as one event. For high rates use POST /api/v1/runs/{runId}/metrics.',
  args: { runId: nonNull(idArg()), metrics: nonNull(list(nonNull('MetricInput'))), idempotencyKey: stringArg() },
  async resolve(_r, { runId, metrics, idempotencyKey }, ctx) {
    const res = await ctx.commands.runs.logMetrics(
      commandContext(ctx, idempotencyKey),
      runId,
      metrics.map((m) => ({ key: m.key, value: m.value as number, ...compact({ step: m.step, timestamp: m.timestamp }) })),
    );
    return { accepted: res.accepted, position: res.position, run: runAfter(ctx, runId) };
  },
});

export const setTags = mutationField('setTags', {
  type: nonNull('Run'),
  args: { runId: nonNull(idArg()), tags: nonNull(list(nonNull('KeyValueInput'))), idempotencyKey: stringArg() },
  async resolve(_r, { runId, tags, idempotencyKey }, ctx) {
    await ctx.commands.runs.setTags(commandContext(ctx, idempotencyKey), runId, tags);
    return runAfter(ctx, runId);
  },
});

export const deleteTag = mutationField('deleteTag', {
  type: nonNull('Run'),
  args: { runId: nonNull(idArg()), key: nonNull(stringArg()), idempotencyKey: stringArg() },
  async resolve(_r, { runId, key, idempotencyKey }, ctx) {
    await ctx.commands.runs.deleteTag(commandContext(ctx, idempotencyKey), runId, key);
    return runAfter(ctx, runId);
  },
});

export const finishRun = mutationField('finishRun', {
  type: nonNull('Run'),
  args: {
    runId: nonNull(idArg()),
    status: arg({ type: 'TerminalStatus', default: 'FINISHED' }),
    endTime: floatArg(),
    idempotencyKey: stringArg(),
  },
  async resolve(_r, { runId, status, endTime, idempotencyKey }, ctx) {
    await ctx.commands.runs.finish(commandContext(ctx, idempotencyKey), runId, status ?? 'FINISHED', endTime ?? undefined);
    return runAfter(ctx, runId);
  },
});

export const deleteRun = mutationField('deleteRun', {
  type: nonNull('Run'),
  description: 'Soft-deletes a run; restoreRun brings it back. Its history is never removed.',
  args: { runId: nonNull(idArg()), idempotencyKey: stringArg() },
  async resolve(_r, { runId, idempotencyKey }, ctx) {
    await ctx.commands.runs.delete(commandContext(ctx, idempotencyKey), runId);
    return runAfter(ctx, runId);
  },
});

export const restoreRun = mutationField('restoreRun', {
  type: nonNull('Run'),
  args: { runId: nonNull(idArg()), idempotencyKey: stringArg() },
  async resolve(_r, { runId, idempotencyKey }, ctx) {
    await ctx.commands.runs.restore(commandContext(ctx, idempotencyKey), runId);
    return runAfter(ctx, runId);
  },
});

export const moveRun = mutationField('moveRun', {
  type: nonNull('Run'),
  args: { runId: nonNull(idArg()), experimentId: nonNull(idArg()), idempotencyKey: stringArg() },
  async resolve(_r, { runId, experimentId, idempotencyKey }, ctx) {
    await ctx.commands.runs.move(commandContext(ctx, idempotencyKey), runId, experimentId);
    return runAfter(ctx, runId);
  },
});
