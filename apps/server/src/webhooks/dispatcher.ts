import type { Commands, CommandContext } from '@chronicle/commands';
import { loadState, StateCache, type EventStore, type SqliteDatabase } from '@chronicle/event-store';
import { webhookDecider, webhookKindOf, webhookStream, type Principal, type RecordedEvent, type WebhookEventKind } from '@chronicle/domain';
import type { ReadModels } from '@chronicle/projections';
import type { Logger } from 'pino';
import { postWithRetries } from './delivery.js';

export interface DispatcherOptions {
  db: SqliteDatabase;
  store: EventStore;
  read: ReadModels;
  commands: Commands;
  /** Resolves once the read models include this position (subscriptions are looked up there). */
  waitForReadModels(position: number): Promise<void>;
  maxAttempts: number;
  backoffMs: number;
  /** Per attempt. */
  timeoutMs: number;
  clock: () => number;
  logger: Logger;
}

export interface WebhookDispatcher {
  stop(): Promise<void>;
  /** The log position every delivery has been made up to. */
  readonly position: number;
}

const dispatcher: Principal = { username: 'webhooks', role: 'admin', via: { kind: 'system' } };
const CHECKPOINT = 'webhook-dispatcher';
/** Past events of no webhook kind, the checkpoint is saved once per this many positions. */
const SKIPPED_CHECKPOINT_EVERY = 10_000;

/**
 * Delivers registry events to subscribed webhooks, in log order, at least once: the checkpoint
 * moves past an event only after every subscriber got it (or exhausted its retries), and is
 * stored in the database, so a restart resumes where it stopped.
 */
export async function startWebhookDispatcher(opts: DispatcherOptions): Promise<WebhookDispatcher> {
  const { db, store, read, commands, logger } = opts;
  db.exec('CREATE TABLE IF NOT EXISTS worker_checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID');
  const saved = db.prepare<[string], { position: number }>('SELECT position FROM worker_checkpoints WHERE name = ?').get(CHECKPOINT);
  const save = db.prepare('INSERT INTO worker_checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position');
  // First start: nothing can be owed to a subscription before the oldest one existed.
  const oldest = read.webhooks.active()[0]?.createdPosition;
  let position = saved?.position ?? oldest ?? (await store.headPosition());
  let savedPosition = saved?.position ?? 0;
  const saveAt = (p: number) => {
    save.run(CHECKPOINT, p);
    savedPosition = p;
  };
  const cache = new StateCache(1000);
  const shutdown = new AbortController();

  function bodyOf(e: RecordedEvent, kind: WebhookEventKind): string {
    return JSON.stringify({
      id: e.id,
      type: kind,
      eventType: e.type,
      position: e.position,
      recordedAt: e.recordedAt,
      actor: e.actor,
      stream: e.stream,
      data: e.data,
    });
  }

  async function deliver(webhookId: string, e: RecordedEvent, kind: WebhookEventKind): Promise<void> {
    const { state: hook } = await loadState(store, webhookStream(webhookId), webhookDecider, cache);
    if (hook.status !== 'active') return;
    const ctx: CommandContext = { principal: dispatcher, causationId: e.id };
    await postWithRetries({
      url: hook.url,
      secret: hook.secret,
      body: bodyOf(e, kind),
      deliveryId: e.id,
      maxAttempts: opts.maxAttempts,
      backoffMs: opts.backoffMs,
      // The deadline bounds one attempt; retries are bounded by maxAttempts.
      get deadline() {
        return opts.clock() + opts.timeoutMs;
      },
      clock: opts.clock,
      signal: shutdown.signal,
      onAttempt: async (a) => {
        await commands.webhooks.recordDelivery(ctx, {
          webhookId,
          deliveryId: e.id,
          kind,
          attempt: a.attempt,
          ok: a.ok,
          statusCode: a.statusCode,
          durationMs: a.durationMs,
          error: a.error,
          responseSnippet: a.responseSnippet,
        });
      },
    });
  }

  let pumping: Promise<void> = Promise.resolve();
  const pump = () => {
    pumping = pumping
      .then(async () => {
        while (!shutdown.signal.aborted) {
          const events = await store.readAll({ after: position, limit: 200 });
          if (events.length === 0) return;
          for (const e of events) {
            if (shutdown.signal.aborted) return;
            const kind = webhookKindOf(e.type);
            if (kind) {
              await opts.waitForReadModels(e.position);
              const subscribers = read.webhooks.active().filter((w) => w.createdPosition < e.position && w.events.includes(kind));
              await Promise.all(subscribers.map((w) => deliver(w.id, e, kind)));
              // Cut off by shutdown: not delivered to everyone, so not checkpointed.
              if (shutdown.signal.aborted) return;
              position = e.position;
              saveAt(position);
            }
            position = e.position;
          }
          // Events without a webhook kind need no durable checkpoint (a restart re-reads and
          // skips them): saving after every append would add a synchronous write to every
          // write path. Save now and then, so a restart's re-read stays short.
          if (position - savedPosition >= SKIPPED_CHECKPOINT_EVERY) saveAt(position);
        }
      })
      .catch((e) => logger.error({ err: e }, 'webhook dispatcher failed; retrying at the next append'));
  };
  const unsubscribe = store.onAppended(pump);
  pump();
  return {
    get position() {
      return position;
    },
    async stop() {
      unsubscribe();
      shutdown.abort();
      await pumping;
      if (position !== savedPosition) saveAt(position);
    },
  };
}
