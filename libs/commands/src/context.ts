import { createHash } from 'node:crypto';
import { actorOf, type Principal } from '@chronicle/domain';
import { canonicalJson, type AppendMetadata } from '@chronicle/event-store';

/** Who asks, and how the request is traced and deduplicated. Every entry point builds one. */
export interface CommandContext {
  principal: Principal;
  correlationId?: string;
  causationId?: string | null;
  /** A client's retry of the same request carries the same key and is answered without a second append. */
  idempotencyKey?: string;
}

function fingerprint(command: string, input: unknown): string {
  // Metric batches may hold NaN or infinities, which canonical JSON refuses: spell them out first.
  const text = canonicalJson(
    JSON.parse(JSON.stringify(input, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? 'null'),
  );
  return createHash('sha256').update(command).update('\n').update(text).digest('hex');
}

export function metaFor(ctx: CommandContext, command: string, input: unknown, result?: unknown): AppendMetadata {
  const meta: AppendMetadata = {
    actor: actorOf(ctx.principal),
    causationId: ctx.causationId ?? null,
  };
  if (ctx.correlationId) meta.correlationId = ctx.correlationId;
  if (ctx.idempotencyKey) {
    // Keys are per user, so two users can never collide on a key they both chose.
    meta.idempotencyKey = `${ctx.principal.username}:${ctx.idempotencyKey}`;
    meta.requestHash = fingerprint(command, input);
    meta.result = result;
  }
  return meta;
}
