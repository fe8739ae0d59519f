import { NotFound, type Role as DomainRole } from '@chronicle/domain';
import { arg, enumType, extendType, inputObjectType, intArg, list, mutationField, nonNull, objectType, queryField, stringArg } from 'nexus';
import { asOfArg } from './as-of.js';
import { commandContext, type GraphQLContext } from './context.js';

export const GateRuleKind = enumType({ name: 'GateRuleKind', members: { METRIC: 'metric', LINEAGE: 'lineage', APPROVAL: 'approval' } });

export const RequiredInput = objectType({
  name: 'RequiredInput',
  description: "A dataset the candidate's run must have declared as an input; version and role narrow it.",
  definition(t) {
    t.nonNull.string('dataset');
    t.int('version');
    t.string('role');
  },
});

export const RequiredInputInput = inputObjectType({
  name: 'RequiredInputInput',
  definition(t) {
    t.nonNull.string('dataset');
    t.int('version');
    t.string('role', { description: 'train, validation or test' });
  },
});

export const ApprovalRequirement = objectType({
  name: 'ApprovalRequirement',
  definition(t) {
    t.nonNull.int('count');
    t.nonNull.field('minRole', { type: 'Role' });
  },
});

export const PromotionGates = objectType({
  name: 'PromotionGates',
  description: 'One version of the rules a promotion to a target (alias or stage) must pass.',
  definition(t) {
    t.nonNull.string('model');
    t.nonNull.string('target');
    t.nonNull.int('version', { description: '1, 2, 3... for each change of this target\'s gates.' });
    t.nonNull.list.nonNull.string('metricRules');
    t.nonNull.list.nonNull.field('requiredInputs', { type: 'RequiredInput' });
    t.field('approval', { type: 'ApprovalRequirement' });
    t.nonNull.float('setAt');
    t.nonNull.string('setBy');
  },
});

export const RuleCheck = objectType({
  name: 'RuleCheck',
  definition(t) {
    t.nonNull.field('kind', { type: 'GateRuleKind' });
    t.nonNull.string('rule');
    t.nonNull.boolean('passed');
    t.nonNull.string('message', { description: 'What was compared, with the numbers.' });
    t.float('left', { description: 'Left side of a metric rule, or approvals counted.' });
    t.float('right', { description: 'Right side of a metric rule, or approvals required.' });
  },
});

export const PromotionCheck = objectType({
  name: 'PromotionCheck',
  description: 'What the gates say about a promotion now (a dry run: nothing is recorded).',
  definition(t) {
    t.nonNull.string('model');
    t.nonNull.int('version');
    t.nonNull.string('target');
    t.nonNull.int('gatesVersion', { description: '0: the target has no gates.' });
    t.int('holderVersion', { description: 'The version the relative rules compare with; null when none holds the target.' });
    t.nonNull.boolean('passed');
    t.nonNull.list.nonNull.field('checks', { type: 'RuleCheck' });
  },
});

export const PromotionDecision = objectType({
  name: 'PromotionDecision',
  description: 'A recorded gate decision. For a refusal, checks are the failing rules.',
  definition(t) {
    t.nonNull.string('model');
    t.nonNull.int('version');
    t.nonNull.string('target');
    t.nonNull.boolean('passed');
    t.nonNull.string('actor');
    t.nonNull.int('gatesVersion');
    t.int('holderVersion');
    t.nonNull.list.nonNull.field('checks', { type: 'RuleCheck' });
    t.nonNull.float('at');
    t.nonNull.float('position');
  },
});

export const ModelApproval = objectType({
  name: 'ModelApproval',
  definition(t) {
    t.nonNull.string('target');
    t.nonNull.string('username');
    t.nonNull.field('role', { type: 'Role', description: 'The approver\'s role when approving.' });
    t.nonNull.string('comment');
    t.nonNull.float('at');
  },
});

export const ModelVersionApprovals = extendType({
  type: 'ModelVersion',
  definition(t) {
    t.nonNull.list.nonNull.field('approvals', {
      type: 'ModelApproval',
      args: { target: stringArg() },
      resolve: (v, { target }, ctx) => ctx.read.promotion.approvals(v.model, v.version).filter((a) => !target || a.target === target),
    });
  },
});

function requireModel(ctx: GraphQLContext, model: string) {
  if (!ctx.read.models.get(model)) throw new NotFound(`model ${model} does not exist`, { model });
}

export const promotionGatesQuery = queryField('promotionGates', {
  type: 'PromotionGates',
  description: 'The gates in force for a promotion to target; null when it has none.',
  args: { model: nonNull(stringArg()), target: nonNull(stringArg()), asOf: asOfArg() },
  resolve: (_r, { model, target }, ctx) => (requireModel(ctx, model), ctx.read.promotion.gates(model, target)),
});

export const promotionGateHistoryQuery = queryField('promotionGateHistory', {
  type: nonNull(list(nonNull('PromotionGates'))),
  description: 'Every version of the gates of a target, newest first.',
  args: { model: nonNull(stringArg()), target: nonNull(stringArg()), asOf: asOfArg() },
  resolve: (_r, { model, target }, ctx) => (requireModel(ctx, model), ctx.read.promotion.gateHistory(model, target)),
});

export const promotionChecksQuery = queryField('promotionChecks', {
  type: nonNull('PromotionCheck'),
  description: 'Evaluates every gate rule for promoting the version to target, without recording anything.',
  args: { model: nonNull(stringArg()), version: nonNull(intArg()), target: nonNull(stringArg()) },
  resolve: (_r, args, ctx) => ctx.commands.promotion.check(commandContext(ctx), args),
});

export const promotionRefusalsQuery = queryField('promotionRefusals', {
  type: nonNull(list(nonNull('PromotionDecision'))),
  description: 'Promotions of the model its gates refused, newest first.',
  args: { model: nonNull(stringArg()), first: intArg({ default: 100 }), asOf: asOfArg() },
  resolve: (_r, { model, first }, ctx) => (requireModel(ctx, model), ctx.read.promotion.refusals(model, Math.min(Math.max(first ?? 100, 1), 1000))),
});

export const setPromotionGates = mutationField('setPromotionGates', {
  type: nonNull('PromotionGates'),
  description:
    'Replaces the gates of a target (alias, or a stage name) with a new numbered version. Metric rules read like `metrics.auc >= champion.metrics.auc - 0.005`. Needs maintainer.',
  args: {
    model: nonNull(stringArg()),
    target: nonNull(stringArg()),
    metricRules: list(nonNull(stringArg())),
    requiredInputs: list(nonNull(arg({ type: 'RequiredInputInput' }))),
    approvals: intArg({ description: 'Approvals needed (0 or absent: none).' }),
    approverRole: arg({ type: 'Role', description: 'Lowest role whose approval counts; default maintainer.' }),
    idempotencyKey: stringArg(),
  },
  async resolve(_r, args, ctx) {
    const res = await ctx.commands.promotion.setGates(commandContext(ctx, args.idempotencyKey), {
      model: args.model,
      target: args.target,
      metricRules: args.metricRules ?? [],
      requiredInputs: (args.requiredInputs ?? []).map((r) => ({ dataset: r.dataset, version: r.version ?? null, role: (r.role ?? null) as 'train' | null })),
      approval: args.approvals ? { count: args.approvals, minRole: (args.approverRole ?? 'maintainer') as DomainRole } : null,
    });
    const gates = ctx.read.promotion.gates(args.model, res.target);
    if (!gates) throw new NotFound(`model ${args.model} has no gates for ${res.target}`, { model: args.model });
    return gates;
  },
});

export const approveModelVersion = mutationField('approveModelVersion', {
  type: nonNull('ModelVersion'),
  description: 'Approves promoting the version to target. Each user counts once; needs member or above.',
  args: {
    model: nonNull(stringArg()),
    version: nonNull(intArg()),
    target: nonNull(stringArg()),
    comment: stringArg(),
    idempotencyKey: stringArg(),
  },
  async resolve(_r, args, ctx) {
    await ctx.commands.promotion.approve(commandContext(ctx, args.idempotencyKey), {
      model: args.model,
      version: args.version,
      target: args.target,
      comment: args.comment ?? '',
    });
    const v = ctx.read.models.version(args.model, args.version);
    if (!v) throw new NotFound(`model ${args.model} has no version ${args.version}`, { model: args.model, version: args.version });
    return v;
  },
});
