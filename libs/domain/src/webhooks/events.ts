import type { DomainEvent } from '../shared/decider.js';

export const webhookStream = (id: string) => `webhook-${id}`;

export const WEBHOOK_EVENT_KINDS = ['MODEL_VERSION_CREATED', 'ALIAS_MOVED', 'PROMOTION_REFUSED', 'DEPLOYMENT_CHANGED'] as const;
export type WebhookEventKind = (typeof WEBHOOK_EVENT_KINDS)[number];

/** Which log events a subscription kind covers, by event type name. */
const KIND_OF_EVENT_TYPE: Readonly<Record<string, WebhookEventKind>> = {
  ModelVersionCreated: 'MODEL_VERSION_CREATED',
  ModelAliasSet: 'ALIAS_MOVED',
  ModelAliasRemoved: 'ALIAS_MOVED',
  // Written by the promotion gates; matched by name so this works whether or not they are built in.
  ModelPromotionRefused: 'PROMOTION_REFUSED',
  DeploymentRequested: 'DEPLOYMENT_CHANGED',
  DeploymentStarted: 'DEPLOYMENT_CHANGED',
  DeploymentSucceeded: 'DEPLOYMENT_CHANGED',
  DeploymentFailed: 'DEPLOYMENT_CHANGED',
};

export function webhookKindOf(eventType: string): WebhookEventKind | null {
  return KIND_OF_EVENT_TYPE[eventType] ?? null;
}

export type WebhookCreated = DomainEvent<
  'WebhookCreated',
  { webhookId: string; url: string; events: WebhookEventKind[]; secret: string; at: number }
>;
export type WebhookDeleted = DomainEvent<'WebhookDeleted', { webhookId: string; at: number }>;
export type WebhookDeliveryAttempted = DomainEvent<
  'WebhookDeliveryAttempted',
  {
    webhookId: string;
    /** The id of the delivered event, sent as `Chronicle-Delivery`: the same on every retry. */
    deliveryId: string;
    kind: WebhookEventKind;
    attempt: number;
    ok: boolean;
    statusCode: number | null;
    durationMs: number;
    error: string | null;
    responseSnippet: string;
    at: number;
  }
>;

export type WebhookEvent = WebhookCreated | WebhookDeleted | WebhookDeliveryAttempted;
