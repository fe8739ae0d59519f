import { NotFound, ValidationFailed } from '@chronicle/domain';
import { arg, enumType, floatArg, idArg, inputObjectType, intArg, list, mutationField, nonNull, objectType, queryField, stringArg } from 'nexus';
import { asOfArg } from './as-of.js';
import { commandContext, type GraphQLContext } from './context.js';

export const DeploymentStatus = enumType({
  name: 'DeploymentStatus',
  description: 'REQUESTED → STARTED → SUCCEEDED | FAILED | TIMED_OUT; a succeeded deployment later undone by a rollback is ROLLED_BACK.',
  members: [
    { name: 'REQUESTED', value: 'requested' },
    { name: 'STARTED', value: 'started' },
    { name: 'SUCCEEDED', value: 'succeeded' },
    { name: 'FAILED', value: 'failed' },
    { name: 'TIMED_OUT', value: 'timed_out' },
    { name: 'ROLLED_BACK', value: 'rolled_back' },
  ],
});

export const DeploymentTargetKind = enumType({
  name: 'DeploymentTargetKind',
  members: [
    { name: 'WEBHOOK', value: 'webhook' },
    { name: 'COMMAND', value: 'command' },
  ],
});

export const Environment = objectType({
  name: 'Environment',
  definition(t) {
    t.nonNull.string('name');
    t.nonNull.field('targetKind', { type: 'DeploymentTargetKind' });
    t.string('targetUrl', { description: 'The webhook target; its signing secret is never shown after creation.' });
    t.list.nonNull.string('targetArgv', { description: 'The command target, program first.' });
    t.nonNull.int('timeoutMs');
    t.int('maxAttempts');
    t.string('healthCheckUrl');
    t.nonNull.float('createdAt');
    t.nonNull.string('createdBy');
    t.field('live', {
      type: 'DeployedVersion',
      description: 'What is deployed now.',
      resolve: (e, _a, ctx) => ctx.read.deployments.history(e.name).find((p) => p.toTime === null) ?? null,
    });
  },
});

export const DeploymentAttempt = objectType({
  name: 'DeploymentAttempt',
  definition(t) {
    t.nonNull.int('attempt');
    t.nonNull.string('phase', { description: '`deploy` or `health_check`.' });
    t.int('statusCode');
    t.int('exitCode');
    t.nonNull.int('durationMs');
    t.string('error');
    t.nonNull.string('output', { description: "The last 4 KB of a command's output, or the start of an HTTP answer." });
    t.nonNull.float('at');
  },
});

export const Deployment = objectType({
  name: 'Deployment',
  definition(t) {
    t.nonNull.id('id');
    t.nonNull.string('environment');
    t.nonNull.string('model');
    t.nonNull.int('version');
    t.nonNull.string('sha256', { description: 'The content deployed.' });
    t.nonNull.string('artifactPath');
    t.nonNull.string('reason');
    t.id('rollbackOf', { description: 'The deployment this one undoes.' });
    t.id('restores', { description: 'The earlier deployment whose version this one restores.' });
    t.id('rolledBackBy');
    t.nonNull.field('status', { type: 'DeploymentStatus' });
    t.string('error');
    t.nonNull.float('requestedAt');
    t.nonNull.string('requestedBy');
    t.float('startedAt');
    t.float('finishedAt');
    t.nonNull.list.nonNull.field('attempts', { type: 'DeploymentAttempt', resolve: (d, _a, ctx) => ctx.read.deployments.attempts(d.id) });
  },
});

export const DeploymentConnection = objectType({
  name: 'DeploymentConnection',
  definition(t) {
    t.nonNull.list.nonNull.field('nodes', { type: 'Deployment' });
    t.nonNull.field('pageInfo', { type: 'PageInfo', resolve: (p) => ({ endCursor: p.endCursor, hasNextPage: p.hasNextPage }) });
  },
});

export const DeployedVersion = objectType({
  name: 'DeployedVersion',
  description: 'A span of time during which one deployment was live in an environment; toTime null: it still is.',
  definition(t) {
    t.nonNull.string('environment');
    t.nonNull.id('deploymentId');
    t.field('deployment', { type: 'Deployment', resolve: (p, _a, ctx) => ctx.read.deployments.get(p.deploymentId) });
    t.nonNull.string('model');
    t.nonNull.int('version');
    t.nonNull.string('sha256');
    t.nonNull.float('fromTime');
    t.float('toTime');
    t.nonNull.string('deployedBy', { description: 'Who requested the deployment.' });
  },
});

export const CreatedEnvironment = objectType({
  name: 'CreatedEnvironment',
  definition(t) {
    t.nonNull.field('environment', { type: 'Environment' });
    t.string('secret', { description: 'The generated webhook signing secret; shown only in this answer.' });
  },
});

export const WebhookTargetInput = inputObjectType({
  name: 'WebhookTargetInput',
  definition(t) {
    t.nonNull.string('url');
    t.string('secret', { description: 'At least 16 characters; generated (and answered once) if omitted.' });
    t.int('maxAttempts', { description: 'Default 5.' });
  },
});

export const CreateEnvironmentInput = inputObjectType({
  name: 'CreateEnvironmentInput',
  description: 'Give exactly one of webhook or command.',
  definition(t) {
    t.nonNull.string('name');
    t.field('webhook', { type: 'WebhookTargetInput' });
    t.list.nonNull.string('command', { description: 'Program and arguments, run without a shell.' });
    t.int('timeoutMs', { description: 'Default 60000.' });
    t.string('healthCheckUrl');
    t.int('healthCheckTimeoutMs', { description: 'Default 30000.' });
  },
});

function environmentOrFail(ctx: GraphQLContext, name: string) {
  const e = ctx.read.deployments.environment(name);
  if (!e) throw new NotFound(`environment ${name} does not exist`, { environment: name });
  return e;
}

function deploymentOrFail(ctx: GraphQLContext, id: string) {
  const d = ctx.read.deployments.get(id);
  if (!d) throw new NotFound(`deployment ${id} does not exist`, { deploymentId: id });
  return d;
}

export const environmentsQuery = queryField('environments', {
  type: nonNull(list(nonNull('Environment'))),
  args: { asOf: asOfArg() },
  resolve: (_r, _a, ctx) => ctx.read.deployments.environments(),
});

export const environmentQuery = queryField('environment', {
  type: 'Environment',
  args: { name: nonNull(stringArg()), asOf: asOfArg() },
  resolve: (_r, { name }, ctx) => environmentOrFail(ctx, name),
});

export const deploymentsQuery = queryField('deployments', {
  type: nonNull('DeploymentConnection'),
  description: 'Deployments of the environment, newest first.',
  args: { environment: nonNull(stringArg()), first: intArg(), after: stringArg(), asOf: asOfArg() },
  resolve: (_r, { environment, first, after }, ctx) => ctx.read.deployments.list(environmentOrFail(ctx, environment).name, { first, after }),
});

export const deploymentQuery = queryField('deployment', {
  type: 'Deployment',
  args: { id: nonNull(idArg()), asOf: asOfArg() },
  resolve: (_r, { id }, ctx) => deploymentOrFail(ctx, id),
});

export const deployedAtQuery = queryField('deployedAt', {
  type: 'DeployedVersion',
  description: 'What was live in the environment at `at` (ms since the epoch) and who deployed it; null if nothing was.',
  args: { environment: nonNull(stringArg()), at: nonNull(floatArg()), asOf: asOfArg() },
  resolve: (_r, { environment, at }, ctx) => ctx.read.deployments.deployedAt(environmentOrFail(ctx, environment).name, at),
});

export const createEnvironment = mutationField('createEnvironment', {
  type: nonNull('CreatedEnvironment'),
  args: { input: nonNull(arg({ type: 'CreateEnvironmentInput' })), idempotencyKey: stringArg() },
  async resolve(_r, { input, idempotencyKey }, ctx) {
    if (Boolean(input.webhook) === Boolean(input.command))
      throw new ValidationFailed('give exactly one target: webhook or command', { field: 'input' });
    const timeoutMs = input.timeoutMs ?? undefined;
    const target = input.webhook
      ? { kind: 'webhook' as const, url: input.webhook.url, secret: input.webhook.secret ?? undefined, maxAttempts: input.webhook.maxAttempts ?? undefined, timeoutMs }
      : { kind: 'command' as const, argv: input.command ?? [], timeoutMs };
    const res = await ctx.commands.deployments.create(commandContext(ctx, idempotencyKey), {
      name: input.name,
      target,
      healthCheck: input.healthCheckUrl ? { url: input.healthCheckUrl, timeoutMs: input.healthCheckTimeoutMs ?? undefined } : null,
    });
    return { environment: environmentOrFail(ctx, res.environment), secret: res.secret };
  },
});

export const deployModelVersion = mutationField('deployModelVersion', {
  type: nonNull('Deployment'),
  description: 'Requests a deployment; the server performs it through the environment target. Poll `deployment(id)` for the outcome.',
  args: { environment: nonNull(stringArg()), model: nonNull(stringArg()), version: nonNull(intArg()), reason: stringArg(), idempotencyKey: stringArg() },
  async resolve(_r, args, ctx) {
    const { deploymentId } = await ctx.commands.deployments.deploy(commandContext(ctx, args.idempotencyKey), {
      environment: args.environment,
      model: args.model,
      version: args.version,
      reason: args.reason ?? undefined,
    });
    return deploymentOrFail(ctx, deploymentId);
  },
});

export const rollbackDeployment = mutationField('rollbackDeployment', {
  type: nonNull('Deployment'),
  description: 'Redeploys an earlier successful deployment (default: the one before the live one) as a new deployment.',
  args: { environment: nonNull(stringArg()), toDeploymentId: idArg(), reason: stringArg(), idempotencyKey: stringArg() },
  async resolve(_r, args, ctx) {
    const { deploymentId } = await ctx.commands.deployments.rollback(commandContext(ctx, args.idempotencyKey), {
      environment: args.environment,
      toDeploymentId: args.toDeploymentId ?? undefined,
      reason: args.reason ?? undefined,
    });
    return deploymentOrFail(ctx, deploymentId);
  },
});
