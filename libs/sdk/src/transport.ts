import { ChronicleApiError, ChronicleNetworkError, isRetryable } from './errors.js';

export interface RetryOptions {
  /** Tries in all, the first included. Default 5. */
  attempts?: number;
  /** Delay before the second try; doubles each time (with jitter). Default 250 ms. */
  baseDelayMs?: number;
  /** Cap on one delay. Default 5000 ms. */
  maxDelayMs?: number;
}

/** What an upload may stream from: a Node Readable is an AsyncIterable of chunks. */
export type StreamingBody = ReadableStream<Uint8Array> | Uint8Array | Blob | string | AsyncIterable<Uint8Array>;

/** Sends one request whose body (or answer) may be large and streamed: uploads and downloads. */
export type StreamingRequest = (url: string, init: { method: string; headers: Record<string, string>; body?: StreamingBody | null }) => Promise<Response>;

export interface TransportOptions {
  url: string;
  token?: string;
  /** Used for every request; when given, streaming requests go through it as well. */
  fetch?: typeof globalThis.fetch;
  /** Streaming requests; default node:http on Node (faster for big bodies), else `fetch`. */
  streamingRequest?: StreamingRequest;
  timeoutMs?: number;
  retry?: RetryOptions;
}

export interface RequestOptions {
  /**
   * Retry after a network error or a 5xx. Only safe for reads and for writes that carry an
   * idempotency key, because a request that timed out may have been processed.
   */
  retry?: boolean;
  idempotencyKey?: string;
}

/** The HTTP status that goes with each error code (the server's REST mapping). */
const STATUS_OF_CODE: Record<string, number> = {
  BAD_USER_INPUT: 400,
  BAD_REQUEST: 400,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FAILED_PRECONDITION: 422,
  INTERNAL_SERVER_ERROR: 500,
};

interface Answer {
  status: number;
  body: unknown;
}

/** One HTTP conversation with the server: auth, timeouts, error mapping, retries. */
export class Transport {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof globalThis.fetch;
  readonly #stream: StreamingRequest;
  readonly #timeoutMs: number;
  readonly #retry: Required<RetryOptions>;

  constructor(opts: TransportOptions) {
    this.baseUrl = opts.url.replace(/\/+$/, '');
    this.#token = opts.token || undefined;
    this.#fetch = opts.fetch ?? globalThis.fetch;
    this.#stream = opts.streamingRequest ?? (opts.fetch || !onNode() ? streamingOverFetch(this.#fetch) : streamingOverNodeHttp);
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#retry = { attempts: 5, baseDelayMs: 250, maxDelayMs: 5_000, ...opts.retry };
  }

  /** Runs a GraphQL operation and returns its `data`; the first of `errors` becomes a ChronicleApiError. */
  async graphql<T>(query: string, variables: Record<string, unknown> = {}, opts: RequestOptions = {}): Promise<T> {
    return this.#withRetry(opts.retry ?? false, async () => {
      const { status, body } = await this.#send('/graphql', {
        contentType: 'application/json',
        body: JSON.stringify({ query, variables }),
        ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
      });
      const res = (body ?? {}) as { data?: T | null; errors?: { message?: string; extensions?: Record<string, unknown> }[] };
      const first = res.errors?.[0];
      if (first) {
        const { code, ...details } = first.extensions ?? {};
        const wireCode = typeof code === 'string' ? code : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST';
        throw new ChronicleApiError(first.message ?? 'the server reported an error', {
          code: wireCode,
          // GraphQL answers resolver errors with HTTP 200; report the status REST would have used.
          status: status >= 400 ? status : (STATUS_OF_CODE[wireCode] ?? 400),
          details,
        });
      }
      if (status >= 400 || res.data === undefined || res.data === null) throw httpError(status, body);
      return res.data;
    });
  }

  /** POST with a JSON body to a REST route; `{ error: { code, message, ...details } }` becomes a ChronicleApiError. */
  async post<T>(path: string, payload: unknown, opts: RequestOptions = {}): Promise<T> {
    const body = JSON.stringify(payload);
    return this.#withRetry(opts.retry ?? false, async () => {
      const answer = await this.#send(path, {
        contentType: 'application/json',
        body,
        ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
      });
      if (answer.status >= 400) throw restError(answer);
      return answer.body as T;
    });
  }

  /** GET a REST route whose answer is a file (an export): the body as a stream, not parsed. */
  async download(path: string): Promise<{ contentType: string; body: ReadableStream<Uint8Array> }> {
    const headers: Record<string, string> = {};
    if (this.#token) headers['authorization'] = `Bearer ${this.#token}`;
    let res: Response;
    try {
      res = await this.#stream(this.baseUrl + path, { method: 'GET', headers });
    } catch (e) {
      throw new ChronicleNetworkError(`cannot reach Chronicle at ${this.baseUrl}: ${describeCause(e)}`, { url: this.baseUrl + path, timedOut: false, cause: e });
    }
    if (res.status >= 400 || !res.body) {
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: reported as text
      }
      throw restError({ status: res.status, body });
    }
    return { contentType: res.headers.get('content-type') ?? '', body: res.body };
  }

  /** A plain HTTP request with this client's auth and base URL, for streaming routes (artifacts). */
  async request(method: string, path: string, init: { body?: StreamingBody; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.#token) headers['authorization'] = `Bearer ${this.#token}`;
    try {
      return await this.#stream(this.baseUrl + path, { method, headers, body: init.body ?? null });
    } catch (e) {
      throw new ChronicleNetworkError(`cannot reach Chronicle at ${this.baseUrl}: ${describeCause(e)}`, { url: this.baseUrl + path, timedOut: false, cause: e });
    }
  }

  /** Turns a REST error answer into a ChronicleApiError. */
  async errorOf(res: Response): Promise<ChronicleApiError> {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: reported as text
    }
    return restError({ status: res.status, body });
  }

  async #withRetry<T>(retry: boolean, once: () => Promise<T>): Promise<T> {
    const attempts = retry ? Math.max(1, this.#retry.attempts) : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await once();
      } catch (e) {
        if (attempt >= attempts || !isRetryable(e)) throw e;
        const exp = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
        // Jitter keeps many clients that lost the same server from coming back in lockstep.
        await sleep(exp / 2 + Math.random() * (exp / 2));
      }
    }
  }

  async #send(path: string, req: { contentType: string; body: string; idempotencyKey?: string }): Promise<Answer> {
    const url = this.baseUrl + path;
    const headers: Record<string, string> = { 'content-type': req.contentType, accept: 'application/json' };
    if (this.#token) headers['authorization'] = `Bearer ${this.#token}`;
    if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await this.#fetch(url, { method: 'POST', headers, body: req.body, signal });
      status = res.status;
      text = await res.text();
    } catch (e) {
      const timedOut = signal.aborted;
      const reason = timedOut ? `no answer within ${this.#timeoutMs} ms` : describeCause(e);
      throw new ChronicleNetworkError(`cannot reach Chronicle at ${this.baseUrl}: ${reason}`, { url, timedOut, cause: e });
    }
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status, body };
  }
}

const onNode = () => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

function streamingOverFetch(fetch: typeof globalThis.fetch): StreamingRequest {
  // duplex 'half' is what fetch requires of a streamed request body.
  return (url, init) => fetch(url, { ...init, body: (init.body ?? null) as RequestInit['body'], duplex: 'half' } as RequestInit);
}

/** Loaded on first use, so the SDK's entry point stays free of node: imports. */
const streamingOverNodeHttp: StreamingRequest = async (url, init) => (await import('./node/http-request.js')).nodeHttpRequest(url, init);

function describeCause(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return e instanceof Error ? e.message : String(e);
}

function restError({ status, body }: Answer): ChronicleApiError {
  const err = (body as { error?: { code?: unknown; message?: unknown } & Record<string, unknown> } | null)?.error;
  if (err && typeof err === 'object') {
    const { code, message, ...details } = err;
    return new ChronicleApiError(typeof message === 'string' ? message : `HTTP ${status}`, {
      code: typeof code === 'string' ? code : `HTTP_${status}`,
      status,
      details,
    });
  }
  return httpError(status, body);
}

function httpError(status: number, body: unknown): ChronicleApiError {
  const text = typeof body === 'string' ? body.slice(0, 200) : '';
  return new ChronicleApiError(`unexpected answer from the server (HTTP ${status})${text ? `: ${text}` : ''}`, {
    code: status >= 500 ? 'INTERNAL_SERVER_ERROR' : `HTTP_${status}`,
    status,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
