import { setTimeout as sleep } from 'node:timers/promises';
import { DELIVERY_HEADER, SIGNATURE_HEADER, sign } from './signature.js';

export interface AttemptResult {
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseSnippet: string;
  /** The attempt was cut off by the overall deadline. */
  timedOut: boolean;
}

export interface SignedPost {
  url: string;
  secret: string;
  body: string;
  /** Sent as `Chronicle-Delivery`, the same on every retry, so a receiver can drop duplicates. */
  deliveryId: string;
  maxAttempts: number;
  backoffMs: number;
  /** Epoch ms after which no attempt is made and a running one is aborted. */
  deadline: number;
  clock: () => number;
  signal?: AbortSignal;
  onAttempt(result: AttemptResult): Promise<void>;
}

const SNIPPET_BYTES = 512;

// 408 and 429 ask to come back later; any other 4xx will not change by retrying.
const retryable = (status: number) => status >= 500 || status === 408 || status === 429;

async function attemptOnce(p: SignedPost, attempt: number): Promise<AttemptResult> {
  const started = performance.now();
  const remaining = p.deadline - p.clock();
  const timeout = AbortSignal.timeout(Math.max(1, remaining));
  const signal = p.signal ? AbortSignal.any([p.signal, timeout]) : timeout;
  try {
    const res = await fetch(p.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Chronicle-Webhooks/1',
        [SIGNATURE_HEADER]: sign(p.secret, p.body, Math.floor(p.clock() / 1000)),
        [DELIVERY_HEADER]: p.deliveryId,
      },
      body: p.body,
      signal,
      redirect: 'manual',
    });
    const text = await res.text();
    const ok = res.status >= 200 && res.status < 300;
    return {
      attempt,
      ok,
      statusCode: res.status,
      durationMs: Math.round(performance.now() - started),
      error: ok ? null : `HTTP ${res.status}`,
      responseSnippet: text.slice(0, SNIPPET_BYTES),
      timedOut: false,
    };
  } catch (e) {
    const timedOut = timeout.aborted;
    return {
      attempt,
      ok: false,
      statusCode: null,
      durationMs: Math.round(performance.now() - started),
      error: timedOut ? 'timed out' : e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e),
      responseSnippet: '',
      timedOut,
    };
  }
}

/**
 * POSTs a signed body until a 2xx, a non-retryable answer, the attempt budget or the deadline,
 * waiting backoffMs·2^(n-1) between attempts. Every attempt is reported before the next starts.
 */
export async function postWithRetries(p: SignedPost): Promise<AttemptResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await attemptOnce(p, attempt);
    await p.onAttempt(result);
    if (result.ok || result.timedOut || p.signal?.aborted) return result;
    if (result.statusCode !== null && !retryable(result.statusCode)) return result;
    if (attempt >= p.maxAttempts) return result;
    const wait = p.backoffMs * 2 ** (attempt - 1);
    if (p.clock() + wait >= p.deadline) return { ...result, timedOut: true, error: `${result.error ?? 'failed'}; no time left to retry` };
    try {
      await sleep(wait, undefined, p.signal ? { signal: p.signal } : {});
    } catch {
      return result;
    }
  }
}
