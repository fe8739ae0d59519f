import { renderRecipeMarkdown } from '@chronicle/audit';
import { decodeMetricValue, requireRole } from '@chronicle/domain';
import { extendInputType, extendType, idArg, nonNull, objectType, queryField, stringArg } from 'nexus';
import { asOfArg, checkedAsOf } from './as-of.js';

// The source fields a reproduction relies on, beside the ones MLflow clients send.
export const RunSourceReproduction = extendType({
  type: 'RunSource',
  definition(t) {
    t.string('gitBranch');
    t.boolean('gitDirty', { description: 'Whether tracked files had uncommitted changes when the run started.' });
    t.string('gitDiff', { description: '`git diff HEAD` of a dirty tree, when at most 64 KB.' });
    t.string('gitDiffSha256', { description: 'SHA-256 of the full diff, kept even when the diff is too large to store.' });
    t.list.nonNull.string('command', { description: 'The command line that ran, interpreter first, as an argv.' });
    t.string('workingDir', { description: 'Where the command ran, relative to the repository root.' });
  },
});

export const RunSourceInputReproduction = extendInputType({
  type: 'RunSourceInput',
  definition(t) {
    t.string('gitBranch');
    t.boolean('gitDirty');
    t.string('gitDiff', { description: 'At most 64 KB; record gitDiffSha256 alone for a larger diff.' });
    t.string('gitDiffSha256');
    t.list.nonNull.string('command');
    t.string('workingDir');
  },
});

export const StartRunInputReproduction = extendInputType({
  type: 'StartRunInput',
  definition(t) {
    t.id('reproductionOf', { description: 'The run this one re-runs to check that it reproduces (set by `chronicle reproduce --execute`).' });
  },
});

export const RunReproductionFields = extendType({
  type: 'Run',
  definition(t) {
    t.id('reproductionOfId', {
      description: 'The id of the run this one reproduces; null for an ordinary run.',
      resolve: (r, _a, ctx) => ctx.read.reproductions.originalOf(r.runId)?.originalRunId ?? null,
    });
    t.field('reproductionOf', {
      type: 'Run',
      description: 'The run this one reproduces.',
      resolve: (r, _a, ctx) => {
        const link = ctx.read.reproductions.originalOf(r.runId);
        return link ? ctx.read.runs.get(link.originalRunId) : null;
      },
    });
    t.nonNull.list.nonNull.field('reproductions', {
      type: 'Run',
      description: 'Runs made to reproduce this one, oldest first.',
      resolve: (r, _a, ctx) => ctx.read.reproductions.reproductionsOf(r.runId).flatMap((l) => ctx.read.runs.get(l.runId) ?? []),
    });
  },
});

export const RecipeAsOf = objectType({
  name: 'RecipeAsOf',
  description: 'The point of the log a recipe or report describes.',
  definition(t) {
    t.nonNull.int('position', { description: 'The state includes every event up to this global position.' });
    t.float('recordedAt', { description: 'When that event was recorded (ms since the epoch).' });
    t.nonNull.int('head', { description: 'The head of the log when the answer was built.' });
    t.nonNull.boolean('latest', { description: 'Whether the position is the head.' });
  },
});

export const RecipeCode = objectType({
  name: 'RecipeCode',
  definition(t) {
    t.string('repository');
    t.string('commit');
    t.string('branch');
    t.boolean('dirty', { description: 'null: the run did not say whether its tree was clean.' });
    t.string('diff');
    t.string('diffSha256');
    t.string('source');
    t.string('entryPoint');
    t.nonNull.string('workingDir', { description: "Relative to the repository root; '' is the root." });
  },
});

export const RecipeDataset = objectType({
  name: 'RecipeDataset',
  definition(t) {
    t.nonNull.string('dataset');
    t.nonNull.int('version');
    t.nonNull.string('versionId');
    t.nonNull.string('role');
    t.string('manifestSha256');
    t.int('fileCount');
    t.float('totalBytes');
    t.nonNull.boolean('deprecated');
    t.string('deprecationReason');
    t.nonNull.string('checkoutDir', { description: "Relative to the reproduction's work directory." });
    t.nonNull.string('checkoutCommand');
  },
});

export const RecipeSeed = objectType({
  name: 'RecipeSeed',
  description: 'The param (else tag) named seed, random_seed, random_state or rng_seed.',
  definition(t) {
    t.nonNull.string('key');
    t.nonNull.string('value');
    t.nonNull.string('from', { description: '`param` or `tag`.' });
  },
});

export const RuntimeVersion = objectType({
  name: 'RuntimeVersion',
  definition(t) {
    t.nonNull.string('name');
    t.nonNull.string('version');
  },
});

export const LockfileHash = objectType({
  name: 'LockfileHash',
  definition(t) {
    t.nonNull.string('path');
    t.nonNull.string('sha256');
  },
});

export const RecipeMetric = objectType({
  name: 'RecipeMetric',
  definition(t) {
    t.nonNull.string('key');
    t.nonNull.metricValue('value', { resolve: (m) => decodeMetricValue(m.value) });
    t.nonNull.float('step');
    t.nonNull.float('timestamp');
  },
});

export const ReproductionRecipe = objectType({
  name: 'ReproductionRecipe',
  description: 'How to re-run a run: code, command, params, data, environment, seed, and the metrics to expect.',
  definition(t) {
    t.nonNull.id('runId');
    t.nonNull.string('runName');
    t.nonNull.id('experimentId');
    t.nonNull.field('status', { type: 'RunStatus' });
    t.nonNull.string('startedBy');
    t.nonNull.float('startTime');
    t.float('endTime');
    t.nonNull.field('asOf', { type: 'RecipeAsOf' });
    t.id('reproductionOf');
    t.nonNull.field('code', { type: 'RecipeCode' });
    t.list.nonNull.string('command', { description: 'The argv that ran; null when none was recorded.' });
    t.string('commandLine');
    t.nonNull.list.nonNull.field('params', { type: 'KeyValue' });
    t.field('seed', { type: 'RecipeSeed' });
    t.nonNull.list.nonNull.field('datasets', { type: 'RecipeDataset' });
    t.nonNull.list.nonNull.field('runtimes', { type: 'RuntimeVersion', resolve: (r) => r.environment.runtimes });
    t.nonNull.list.nonNull.field('lockfiles', { type: 'LockfileHash', resolve: (r) => r.environment.lockfiles });
    t.nonNull.json('environment', { description: 'The environment as the run recorded it.', resolve: (r) => r.environment.recorded });
    t.nonNull.list.nonNull.field('expectedMetrics', { type: 'RecipeMetric' });
    t.nonNull.list.nonNull.string('missing', { description: 'What the recipe cannot say, one sentence each.' });
    t.nonNull.list.nonNull.string('steps', { description: 'Shell lines that reproduce the run by hand.' });
    t.nonNull.json('document', { description: 'The whole recipe in its stable JSON form (schema chronicle.reproduction-recipe/v1).', resolve: (r) => r });
    t.nonNull.string('markdown', { resolve: (r) => renderRecipeMarkdown(r) });
  },
});

export const reproductionRecipeQuery = queryField('reproductionRecipe', {
  type: nonNull('ReproductionRecipe'),
  description:
    "How to reproduce a run, read from the event log. `asOf` (a global position, or an ISO 8601 time) builds it from the state at that point: params, inputs or deprecations recorded later are left out.",
  args: { runId: nonNull(idArg()), asOf: asOfArg() },
  resolve(_r, { runId, asOf }, ctx) {
    requireRole(ctx.principal, 'viewer', 'reading a reproduction recipe');
    return ctx.audit.recipe(runId, asOf === null || asOf === undefined ? null : checkedAsOf(asOf));
  },
});
