import { requireRole, webhookDecider, webhookStream, type WebhookCommand, type WebhookDeliveryAttempted } from '@chronicle/domain';
import { handleCommand, type AppendResult, type EventStore, type StateCache } from '@chronicle/event-store';
import { metaFor, type CommandContext } from './context.js';
import { newSigningSecret } from './deployments.js';

export interface WebhookDeps {
  store: EventStore;
  clock: () => number;
  newId: () => string;
  cache: StateCache;
  done<T extends object>(res: AppendResult, value: T): Promise<T & { position: number; replayed: boolean }>;
}

/** Subscriptions to registry events, and the record of every delivery attempt. */
export function createWebhookCommands(deps: WebhookDeps) {
  const { store, clock, newId, cache, done } = deps;

  async function onWebhook<T extends object>(ctx: CommandContext, id: string, input: unknown, command: WebhookCommand, value: T) {
    const res = await handleCommand(store, webhookStream(id), webhookDecider, command, { meta: metaFor(ctx, command.type, input, value), cache });
    return done(res, value);
  }

  return {
    async create(ctx: CommandContext, input: { url: string; events: string[]; secret?: string | undefined }) {
      requireRole(ctx.principal, 'maintainer', 'creating webhooks');
      const webhookId = newId();
      const secret = input.secret ?? newSigningSecret();
      return onWebhook(
        ctx,
        webhookId,
        input,
        { type: 'CreateWebhook', data: { webhookId, url: input.url, events: input.events, secret, at: clock() } },
        { webhookId, secret: input.secret === undefined ? secret : null },
      );
    },
    delete(ctx: CommandContext, webhookId: string) {
      requireRole(ctx.principal, 'maintainer', 'deleting webhooks');
      return onWebhook(ctx, webhookId, { webhookId }, { type: 'DeleteWebhook', data: { webhookId, at: clock() } }, { webhookId });
    },
    recordDelivery(ctx: CommandContext, attempt: Omit<WebhookDeliveryAttempted['data'], 'at'>) {
      return onWebhook(ctx, attempt.webhookId, attempt, { type: 'RecordWebhookDelivery', data: { ...attempt, at: clock() } }, { webhookId: attempt.webhookId });
    },
  };
}
