import type { RecordedEvent, WebhookEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

const WEBHOOK_EVENTS = new Set<string>(['WebhookCreated', 'WebhookDeleted', 'WebhookDeliveryAttempted']);

/** Webhook subscriptions (without their secrets) and the log of every delivery attempt. */
export const webhooksProjection: ProjectionDefinition = {
  name: 'webhooks.v1',
  tables: ['rm_webhooks', 'rm_webhook_deliveries'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_webhooks (
        id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, created_position INTEGER NOT NULL,
        created_at INTEGER NOT NULL, created_by TEXT NOT NULL, deleted_at INTEGER
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_webhook_deliveries (
        webhook_id TEXT NOT NULL, position INTEGER NOT NULL, delivery_id TEXT NOT NULL, kind TEXT NOT NULL, attempt INTEGER NOT NULL,
        ok INTEGER NOT NULL, status_code INTEGER, duration_ms INTEGER NOT NULL, error TEXT, response_snippet TEXT NOT NULL, at INTEGER NOT NULL,
        PRIMARY KEY (webhook_id, position)
      ) WITHOUT ROWID;`);
    const insert = db.prepare('INSERT INTO rm_webhooks (id, url, events, created_position, created_at, created_by, deleted_at) VALUES (?, ?, ?, ?, ?, ?, NULL)');
    const remove = db.prepare('UPDATE rm_webhooks SET deleted_at = ? WHERE id = ?');
    const attempt = db.prepare(
      `INSERT INTO rm_webhook_deliveries (webhook_id, position, delivery_id, kind, attempt, ok, status_code, duration_ms, error, response_snippet, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    return {
      apply(e: RecordedEvent) {
        if (!WEBHOOK_EVENTS.has(e.type)) return;
        const ev = e as unknown as WebhookEvent;
        switch (ev.type) {
          case 'WebhookCreated':
            insert.run(ev.data.webhookId, ev.data.url, JSON.stringify(ev.data.events), e.position, e.recordedAt, e.actor);
            return;
          case 'WebhookDeleted':
            remove.run(e.recordedAt, ev.data.webhookId);
            return;
          case 'WebhookDeliveryAttempted': {
            const d = ev.data;
            attempt.run(d.webhookId, e.position, d.deliveryId, d.kind, d.attempt, d.ok ? 1 : 0, d.statusCode, d.durationMs, d.error, d.responseSnippet, e.recordedAt);
            return;
          }
        }
      },
    };
  },
};
