import { assertNever, ConcurrencyConflict, IllegalTransition, NotFound, ValidationFailed } from '../errors.js';
import { validateHttpUrl, validateWebhookSecret } from '../deployments/decider.js';
import type { Decider } from '../shared/decider.js';
import { WEBHOOK_EVENT_KINDS, type WebhookEvent, type WebhookEventKind } from './events.js';

export interface Webhook {
  id: string;
  status: 'none' | 'active' | 'deleted';
  secret: string;
  url: string;
  events: WebhookEventKind[];
}

export type CreateWebhook = {
  type: 'CreateWebhook';
  data: { webhookId: string; url: string; events: string[]; secret: string; at: number };
};
export type DeleteWebhook = { type: 'DeleteWebhook'; data: { webhookId: string; at: number } };
export type RecordWebhookDelivery = { type: 'RecordWebhookDelivery'; data: Extract<WebhookEvent, { type: 'WebhookDeliveryAttempted' }>['data'] };
export type WebhookCommand = CreateWebhook | DeleteWebhook | RecordWebhookDelivery;

export const initialWebhook = (): Webhook => ({ id: '', status: 'none', secret: '', url: '', events: [] });

const MAX_SNIPPET = 1024;

export function decideWebhook(cmd: WebhookCommand, hook: Webhook): WebhookEvent[] {
  switch (cmd.type) {
    case 'CreateWebhook': {
      const d = cmd.data;
      if (hook.status !== 'none') throw new ConcurrencyConflict(`webhook ${d.webhookId} already exists`, { webhookId: d.webhookId });
      if (!Array.isArray(d.events) || d.events.length === 0)
        throw new ValidationFailed('events must name at least one of ' + WEBHOOK_EVENT_KINDS.join(', '), { field: 'events' });
      const unknown = d.events.filter((e) => !(WEBHOOK_EVENT_KINDS as readonly string[]).includes(e));
      if (unknown.length) throw new ValidationFailed(`unknown webhook events: ${unknown.join(', ')}`, { field: 'events', unknown });
      return [
        {
          type: 'WebhookCreated',
          data: {
            webhookId: d.webhookId,
            url: validateHttpUrl('url', d.url),
            events: [...new Set(d.events as WebhookEventKind[])],
            secret: validateWebhookSecret('secret', d.secret),
            at: d.at,
          },
        },
      ];
    }
    case 'DeleteWebhook':
      if (hook.status === 'none') throw new NotFound(`webhook ${cmd.data.webhookId} does not exist`, { webhookId: cmd.data.webhookId });
      if (hook.status === 'deleted') return [];
      return [{ type: 'WebhookDeleted', data: cmd.data }];
    case 'RecordWebhookDelivery':
      if (hook.status === 'none') throw new NotFound(`webhook ${cmd.data.webhookId} does not exist`, { webhookId: cmd.data.webhookId });
      // Attempts already under way when the webhook is deleted are still recorded: they happened.
      if (cmd.data.attempt < 1) throw new IllegalTransition('attempts are numbered from 1', { attempt: cmd.data.attempt });
      return [{ type: 'WebhookDeliveryAttempted', data: { ...cmd.data, responseSnippet: cmd.data.responseSnippet.slice(0, MAX_SNIPPET) } }];
    default:
      return assertNever(cmd);
  }
}

export function evolveWebhook(hook: Webhook, ev: WebhookEvent): Webhook {
  switch (ev.type) {
    case 'WebhookCreated':
      return { id: ev.data.webhookId, status: 'active', secret: ev.data.secret, url: ev.data.url, events: ev.data.events };
    case 'WebhookDeleted':
      return { ...hook, status: 'deleted' };
    case 'WebhookDeliveryAttempted':
      return hook;
    default:
      return assertNever(ev);
  }
}

export const webhookDecider: Decider<Webhook, WebhookCommand, WebhookEvent> = {
  decide: decideWebhook,
  evolve: evolveWebhook,
  initialState: initialWebhook,
};

