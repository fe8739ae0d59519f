/**
 * The server refused a request: `code` is the wire code (`BAD_USER_INPUT`, `NOT_FOUND`,
 * `CONFLICT`, `FAILED_PRECONDITION`, `UNAUTHENTICATED`, `FORBIDDEN`, `INTERNAL_SERVER_ERROR`, ...),
 * `status` the HTTP status (for GraphQL errors, which arrive with HTTP 200, the status the
 * same error gets from the REST endpoints), `details` whatever else the server said (e.g. `{ key, oldValue }`).
 */
export class ChronicleApiError extends Error {
  override readonly name = 'ChronicleApiError';
  readonly code: string;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, init: { code: string; status: number; details?: Record<string, unknown> }) {
    super(message);
    this.code = init.code;
    this.status = init.status;
    this.details = Object.freeze({ ...(init.details ?? {}) });
  }
}

/**
 * No answer from the server: it is unreachable, the connection dropped, or the request timed
 * out. The request may or may not have been processed, which is why the SDK retries only
 * with an idempotency key.
 */
export class ChronicleNetworkError extends Error {
  override readonly name = 'ChronicleNetworkError';
  readonly code: 'NETWORK_ERROR' | 'TIMEOUT';
  readonly url: string;

  constructor(message: string, init: { url: string; timedOut?: boolean; cause?: unknown }) {
    super(message, { cause: init.cause });
    this.url = init.url;
    this.code = init.timedOut ? 'TIMEOUT' : 'NETWORK_ERROR';
  }
}

/** Worth another try with the same idempotency key: nothing says the request itself was wrong. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof ChronicleNetworkError) return true;
  if (e instanceof ChronicleApiError)
    return e.status >= 500 || e.status === 408 || e.status === 429;
  return false;
}
