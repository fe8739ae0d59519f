import { createHash } from 'node:crypto';
import { actorOf, type RetryWindow } from '@chronicle/domain';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasIdempotencyKey } from './request.js';

/**
 * Telling a blind retry from a second registration.
 *
 * The MLflow client retries a failed write (5xx, timeouts, dropped connections) up to 7 times
 * over about 4 minutes, and sends no idempotency key; and `register_model` of the same files
 * twice is a legitimate way to make two versions. Both arrive as identical requests. What
 * differs is whether the client got the first answer: a client retries only when it did not.
 * So the server notes which creation answers it delivered (the response was written out in
 * full); an identical request (same fields, same caller) within the window is a retry of a
 * creation whose answer was never delivered, and a new creation otherwise. After a restart
 * nothing is known delivered, so an identical request in the window counts as a retry: a
 * crash between commit and answer is exactly when a client retries.
 *
 * A client that sends an `Idempotency-Key` header is not guessed about: its key decides.
 */
export const BLIND_RETRY_WINDOW_MS = 10 * 60_000;

export class DeliveredAnswers {
  private readonly byFingerprint = new Map<string, { at: number; numbers: Set<number> }>();
  constructor(private readonly now: () => number = Date.now) {}

  /** What this fingerprint created that its client received (version numbers; 0 for a registration). */
  of(fingerprint: string): number[] {
    const e = this.byFingerprint.get(fingerprint);
    return e ? [...e.numbers] : [];
  }

  record(fingerprint: string, n: number): void {
    const now = this.now();
    // Entries outlive the window they matter in only until the next insert.
    for (const [k, e] of this.byFingerprint) if (now - e.at > BLIND_RETRY_WINDOW_MS) this.byFingerprint.delete(k);
    const e = this.byFingerprint.get(fingerprint) ?? { at: now, numbers: new Set<number>() };
    e.at = now;
    e.numbers.add(n);
    this.byFingerprint.set(fingerprint, e);
  }

  /** Records `n` once the response has been written out in full; a dropped connection records nothing. */
  onDelivered(reply: FastifyReply, retry: RetryWindow | undefined, n: number): void {
    if (!retry) return;
    reply.raw.once('finish', () => this.record(retry.fingerprint, n));
  }
}

/**
 * The retry window for a create request, or undefined when the client sent an
 * `Idempotency-Key` header.
 */
export function blindRetry(request: FastifyRequest, deliveries: DeliveredAnswers, operation: string, fields: unknown[]): RetryWindow | undefined {
  if (hasIdempotencyKey(request)) return undefined;
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([operation, actorOf(request.principal), ...fields]))
    .digest('hex');
  return { fingerprint, withinMs: BLIND_RETRY_WINDOW_MS, delivered: deliveries.of(fingerprint) };
}
