import { NotFound, WEBHOOK_EVENT_KINDS } from '@chronicle/domain';
import { arg, idArg, intArg, list, mutationField, nonNull, objectType, queryField, enumType, stringArg } from 'nexus';
import { asOfArg } from './as-of.js';
import { commandContext, type GraphQLContext } from './context.js';

export const WebhookEventKind = enumType({ name: 'WebhookEventKind', members: [...WEBHOOK_EVENT_KINDS] });

export const Webhook = objectType({
  name: 'Webhook',
  definition(t) {
    t.nonNull.id('id');
    t.nonNull.string('url');
    t.nonNull.list.nonNull.field('events', { type: 'WebhookEventKind' });
    t.nonNull.float('createdAt');
    t.nonNull.string('createdBy');
    t.float('deletedAt');
  },
});

export const CreatedWebhook = objectType({
  name: 'CreatedWebhook',
  definition(t) {
    t.nonNull.field('webhook', { type: 'Webhook' });
    t.string('secret', { description: 'The generated signing secret; shown only in this answer.' });
  },
});

export const WebhookDelivery = objectType({
  name: 'WebhookDelivery',
  description: 'One attempt to deliver one event; `deliveryId` (the event id) is the same on every retry.',
  definition(t) {
    t.nonNull.id('deliveryId');
    t.nonNull.field('event', { type: 'WebhookEventKind' , resolve: (d) => d.kind });
    t.nonNull.int('attempt');
    t.nonNull.boolean('ok');
    t.int('statusCode');
    t.nonNull.int('durationMs');
    t.string('error');
    t.nonNull.string('responseSnippet');
    t.nonNull.float('at');
  },
});

export const WebhookDeliveryConnection = objectType({
  name: 'WebhookDeliveryConnection',
  definition(t) {
    t.nonNull.list.nonNull.field('nodes', { type: 'WebhookDelivery' });
    t.nonNull.field('pageInfo', { type: 'PageInfo', resolve: (p) => ({ endCursor: p.endCursor, hasNextPage: p.hasNextPage }) });
  },
});

function webhookOrFail(ctx: GraphQLContext, id: string) {
  const w = ctx.read.webhooks.get(id);
  if (!w) throw new NotFound(`webhook ${id} does not exist`, { webhookId: id });
  return w;
}

export const webhooksQuery = queryField('webhooks', {
  type: nonNull(list(nonNull('Webhook'))),
  args: { asOf: asOfArg() },
  resolve: (_r, _a, ctx) => ctx.read.webhooks.active(),
});

export const webhookDeliveriesQuery = queryField('webhookDeliveries', {
  type: nonNull('WebhookDeliveryConnection'),
  description: 'Every delivery attempt to the webhook, newest first.',
  args: { webhookId: nonNull(idArg()), first: intArg(), after: stringArg(), asOf: asOfArg() },
  resolve: (_r, { webhookId, first, after }, ctx) => ctx.read.webhooks.deliveries(webhookOrFail(ctx, webhookId).id, { first, after }),
});

export const createWebhook = mutationField('createWebhook', {
  type: nonNull('CreatedWebhook'),
  description: 'Subscribes a URL to registry events, delivered signed (see docs/deployments.md).',
  args: {
    url: nonNull(stringArg()),
    events: nonNull(list(nonNull(arg({ type: 'WebhookEventKind' })))),
    secret: stringArg(),
    idempotencyKey: stringArg(),
  },
  async resolve(_r, args, ctx) {
    const res = await ctx.commands.webhooks.create(commandContext(ctx, args.idempotencyKey), {
      url: args.url,
      events: args.events,
      secret: args.secret ?? undefined,
    });
    return { webhook: webhookOrFail(ctx, res.webhookId), secret: res.secret };
  },
});

export const deleteWebhook = mutationField('deleteWebhook', {
  type: nonNull('Webhook'),
  args: { id: nonNull(idArg()), idempotencyKey: stringArg() },
  async resolve(_r, args, ctx) {
    await ctx.commands.webhooks.delete(commandContext(ctx, args.idempotencyKey), args.id);
    return webhookOrFail(ctx, args.id);
  },
});
