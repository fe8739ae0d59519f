import type { WebhookEventKind } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';
import { decodePage, toPage, type Page, type PageArgs } from '../pagination.js';

export interface WebhookView {
  id: string;
  url: string;
  events: WebhookEventKind[];
  /** Only events after this log position are delivered to it. */
  createdPosition: number;
  createdAt: number;
  createdBy: string;
  deletedAt: number | null;
}

export interface WebhookDeliveryView {
  webhookId: string;
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

interface WebhookRow {
  id: string;
  url: string;
  events: string;
  created_position: number;
  created_at: number;
  created_by: string;
  deleted_at: number | null;
}

const toWebhook = (r: WebhookRow): WebhookView => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events) as WebhookEventKind[],
  createdPosition: r.created_position,
  createdAt: r.created_at,
  createdBy: r.created_by,
  deletedAt: r.deleted_at,
});

export function webhookQueries(db: SqliteDatabase) {
  const active = db.prepare<[], WebhookRow>('SELECT * FROM rm_webhooks WHERE deleted_at IS NULL ORDER BY created_position');
  const byId = db.prepare<[string], WebhookRow>('SELECT * FROM rm_webhooks WHERE id = ?');
  const deliveries = db.prepare<[string, number, number], { webhook_id: string; delivery_id: string; kind: WebhookEventKind; attempt: number; ok: number; status_code: number | null; duration_ms: number; error: string | null; response_snippet: string; at: number }>(
    'SELECT * FROM rm_webhook_deliveries WHERE webhook_id = ? ORDER BY position DESC LIMIT ? OFFSET ?',
  );
  return {
    active: () => active.all().map(toWebhook),
    get: (id: string): WebhookView | null => {
      const r = byId.get(id);
      return r ? toWebhook(r) : null;
    },
    /** Newest attempt first. */
    deliveries(webhookId: string, args: PageArgs): Page<WebhookDeliveryView> {
      const { offset, limit } = decodePage(`webhook-deliveries:${webhookId}`, args);
      const rows = deliveries.all(webhookId, limit + 1, offset).map((r) => ({
        webhookId: r.webhook_id,
        deliveryId: r.delivery_id,
        kind: r.kind,
        attempt: r.attempt,
        ok: r.ok === 1,
        statusCode: r.status_code,
        durationMs: r.duration_ms,
        error: r.error,
        responseSnippet: r.response_snippet,
        at: r.at,
      }));
      return toPage(`webhook-deliveries:${webhookId}`, rows, offset, limit);
    },
  };
}
