import { createHash } from 'node:crypto';
import { actorOf, type Principal } from '@chronicle/domain';
import type { AppendMetadata } from '@chronicle/event-store';

/** Who asks, and how the request is traced and deduplicated. Every entry point builds one. */
export interface CommandContext {
  principal: Principal;
  correlationId?: string;
  causationId?: string | null;
  /** A client's retry of the same request carries the same key and is answered without a second append. */
  idempotencyKey?: string;
}

/**
 * Tells a retry (same request) from a reused key (another request). A retry resends the
 * same request, so its JSON text is the same; plain JSON.stringify keeps this cheap on
 * large metric batches (non-finite values become null, never a valid value on its own).
 */
function fingerprint(command: string, input: unknown): string {
  return createHash('sha256').update(command).update('\n').update(JSON.stringify(input) ?? '').digest('hex');
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

/**
 * Metadata for a request whose idempotency key is derived from its own content (MLflow clients
 * send no key): the key is then also the request's fingerprint, so nothing is hashed twice.
 */
export function contentKeyedMeta(ctx: CommandContext, contentKey: string, result?: unknown): AppendMetadata {
  const meta = metaFor({ ...ctx, idempotencyKey: undefined }, '', undefined);
  meta.idempotencyKey = `${ctx.principal.username}:${contentKey}`;
  meta.requestHash = contentKey;
  meta.result = result;
  return meta;
}
