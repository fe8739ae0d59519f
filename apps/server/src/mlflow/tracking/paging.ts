import { invalidParameter, optionalInt64, optionalString, type MlflowMessage } from '../wire.js';

/** MLflow caps a page at 50,000 results and defaults to 1,000. */
export const MAX_RESULTS_LIMIT = 50_000;
export const DEFAULT_MAX_RESULTS = 1000;

export function maxResultsOf(m: MlflowMessage, field = 'max_results', opts: { fallback?: number; limit?: number } = {}): number {
  const limit = opts.limit ?? MAX_RESULTS_LIMIT;
  const n = optionalInt64(m, field) ?? opts.fallback ?? DEFAULT_MAX_RESULTS;
  if (n < 1 || n > limit)
    throw invalidParameter(`Invalid value ${n} for parameter '${field}' supplied. It must be at most ${limit}, and at least 1`);
  return n;
}

/** Offset tokens for lists this layer pages itself; tagged so one list's token is refused by another. */
export function encodePageToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ s: scope, o: offset })).toString('base64url');
}

export function decodePageToken(scope: string, m: MlflowMessage): number {
  const token = optionalString(m, 'page_token');
  if (!token) return 0;
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; o?: unknown };
    if (t.s === scope && typeof t.o === 'number' && Number.isSafeInteger(t.o) && t.o >= 0) return t.o;
  } catch {
    // answered below
  }
  throw invalidParameter(`Invalid page token '${token}': pass the next_page_token of the previous page`);
}
