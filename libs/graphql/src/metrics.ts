import { NotFound } from '@chronicle/domain';
import { idArg, intArg, nonNull, objectType, queryField, stringArg } from 'nexus';
import { asOfArg } from './as-of.js';
import type { GraphQLContext } from './context.js';

export const MetricPoint = objectType({
  name: 'MetricPoint',
  definition(t) {
    t.nonNull.float('step');
    t.nonNull.metricValue('value');
    t.nonNull.float('timestamp');
  },
});

export const MetricHistory = objectType({
  name: 'MetricHistory',
  description: 'Every point of one metric, ordered by step, paged.',
  definition(t) {
    t.nonNull.id('runId');
    t.nonNull.string('key');
    t.nonNull.int('totalCount');
    t.nonNull.list.nonNull.field('points', { type: 'MetricPoint', resolve: (h) => h.nodes });
    t.nonNull.field('pageInfo', { type: 'PageInfo', resolve: (h) => ({ endCursor: h.endCursor, hasNextPage: h.hasNextPage }) });
  },
});

export const ChartPoint = objectType({
  name: 'ChartPoint',
  definition(t) {
    t.nonNull.float('step');
    t.nonNull.float('value');
  },
});

export const MetricSeries = objectType({
  name: 'MetricSeries',
  description:
    'A chart-ready series: at most maxPoints finite points that keep the shape (LTTB over raw points or over min/max tiers), first and last included.',
  definition(t) {
    t.nonNull.id('runId');
    t.nonNull.string('key');
    t.nonNull.int('totalPoints', { description: 'Points stored, including NaN and infinities, which charts leave out.' });
    t.nonNull.int('level', { description: '0 when drawn from raw points, else the downsampling tier used.' });
    t.nonNull.list.nonNull.field('points', { type: 'ChartPoint' });
  },
});

function requireRun(ctx: GraphQLContext, runId: string) {
  if (!ctx.read.runs.get(runId)) throw new NotFound(`run ${runId} does not exist`, { runId });
}

export const metricHistoryQuery = queryField('metricHistory', {
  type: nonNull('MetricHistory'),
  args: { runId: nonNull(idArg()), key: nonNull(stringArg()), first: intArg({ default: 10_000 }), after: stringArg(), asOf: asOfArg() },
  resolve(_r, { runId, key, first, after }, ctx) {
    requireRun(ctx, runId);
    return { runId, key, ...ctx.read.metrics.history(runId, key, { first: first ?? 10_000, after: after ?? null }) };
  },
});

export const metricSeriesQuery = queryField('metricSeries', {
  type: nonNull('MetricSeries'),
  args: { runId: nonNull(idArg()), key: nonNull(stringArg()), maxPoints: intArg({ default: 1000 }), asOf: asOfArg() },
  resolve(_r, { runId, key, maxPoints }, ctx) {
    requireRun(ctx, runId);
    return { runId, ...ctx.read.metrics.series(runId, key, maxPoints ?? 1000) };
  },
});
