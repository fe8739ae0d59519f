import { isRetryable } from './errors.js';
import type { RunsApi } from './runs.js';
import type { KeyValuesInput, MetricPointInput, Run, TerminalStatus } from './types.js';

export interface ActiveRunOptions {
  /** Buffered points are sent at least this often. Default 1000 ms. */
  flushIntervalMs?: number;
  /** A batch is sent as soon as this many points are pending. Default 5000. */
  maxBatchPoints?: number;
  /**
   * Called for every failed background flush (after the transport's retries). The error is
   * also thrown by the run's next call, so this is for logging, not for handling.
   */
  onFlushError?: (error: unknown) => void;
  /** Clock for point timestamps. Default Date.now. */
  now?: () => number;
}

interface Batch {
  seq: number;
  /** Reused on every retry of this batch, so the server writes it at most once. */
  idempotencyKey: string;
  points: MetricPointInput[];
}

interface PendingError {
  error: unknown;
  /** The batch that failed and is still queued; null when its points were refused and dropped. */
  retained: Batch | null;
}

// Mirrors the server's rule for metric keys (MLflow's). Checked here because the server
// refuses a whole batch for one bad key, and the batch's good points would go with it.
const KEY_PATTERN = /^[\p{L}\p{N}_\-. :/]+$/u;

function checkPoint(key: unknown, value: unknown, step: unknown, timestamp: unknown): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 250 || !KEY_PATTERN.test(key) || key.includes('..') || key.startsWith('/'))
    throw new TypeError(
      `metric key ${JSON.stringify(key)} is invalid: use 1-250 letters, digits, underscores, dashes, periods, spaces, colons and slashes`,
    );
  if (typeof value !== 'number') throw new TypeError(`metric "${key}": value must be a number (NaN and ±Infinity are fine)`);
  if (step !== undefined && !Number.isSafeInteger(step)) throw new TypeError(`metric "${key}": step must be an integer`);
  if (timestamp !== undefined && (!Number.isSafeInteger(timestamp) || (timestamp as number) < 0))
    throw new TypeError(`metric "${key}": timestamp must be a non-negative integer of milliseconds`);
}

/**
 * A run being logged to. Metrics are buffered and sent in the background through the bulk
 * endpoint; params and tags are written at once. A failed background flush is thrown by the
 * next call on the run (and reported to `onFlushError`), never as an unhandled rejection.
 */
export class ActiveRun {
  readonly id: string;
  readonly experimentId: string;
  readonly #runs: RunsApi;
  readonly #flushIntervalMs: number;
  readonly #maxBatchPoints: number;
  readonly #onFlushError: ((error: unknown) => void) | undefined;
  readonly #now: () => number;

  #state: 'active' | 'finishing' | 'finished' = 'active';
  #pending: MetricPointInput[] = [];
  #batches: Batch[] = [];
  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #draining: Promise<void> | null = null;
  #error: PendingError | null = null;

  constructor(run: Pick<Run, 'id' | 'experimentId'>, runs: RunsApi, opts: ActiveRunOptions = {}) {
    this.id = run.id;
    this.experimentId = run.experimentId;
    this.#runs = runs;
    this.#flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.#maxBatchPoints = Math.max(1, opts.maxBatchPoints ?? 5000);
    this.#onFlushError = opts.onFlushError;
    this.#now = opts.now ?? Date.now;
  }

  /** Points logged but not yet acknowledged by the server. */
  get pendingPoints(): number {
    return this.#pending.length + this.#batches.reduce((n, b) => n + b.points.length, 0);
  }

  get finished(): boolean {
    return this.#state === 'finished';
  }

  /** Buffers one point stamped with the current time; `step` defaults to 0 on the server. */
  logMetric(key: string, value: number, step?: number, timestamp?: number): void {
    this.#assertWritable();
    checkPoint(key, value, step, timestamp);
    this.#buffer({ key, value, timestamp: timestamp ?? this.#now(), ...(step !== undefined ? { step } : {}) });
  }

  /** Buffers one point per key, all with the same step and timestamp. */
  logMetrics(record: Readonly<Record<string, number>>, step?: number): void {
    this.#assertWritable();
    const entries = Object.entries(record);
    for (const [key, value] of entries) checkPoint(key, value, step, undefined);
    const timestamp = this.#now();
    for (const [key, value] of entries) this.#buffer({ key, value, timestamp, ...(step !== undefined ? { step } : {}) });
  }

  /** Sends everything logged so far and waits for the server to acknowledge it. */
  async flush(): Promise<void> {
    this.#throwLostPoints();
    this.#seal();
    const target = this.#seq;
    while (this.#batches.length > 0 && this.#batches[0]!.seq <= target) {
      try {
        await this.#drain();
      } catch (e) {
        // Thrown here, so the next call need not report it again.
        if (this.#error?.error === e) this.#error = null;
        throw e;
      }
    }
  }

  /** Params are immutable: a different value for a logged key fails with BAD_USER_INPUT. */
  async logParams(params: KeyValuesInput): Promise<void> {
    this.#assertWritable();
    await this.#runs.logParams(this.id, params);
  }

  async setTags(tags: KeyValuesInput): Promise<void> {
    this.#assertWritable();
    await this.#runs.setTags(this.id, tags);
  }

  async deleteTag(key: string): Promise<void> {
    this.#assertWritable();
    await this.#runs.deleteTag(this.id, key);
  }

  /**
   * Flushes, then ends the run. If either fails the run stays open, so the caller can retry
   * or end it another way (e.g. `finish('FAILED')`).
   */
  async finish(status: TerminalStatus = 'FINISHED'): Promise<Run> {
    if (this.#state !== 'active') throw new Error(`run ${this.id} is already ${this.#state}`);
    this.#state = 'finishing';
    try {
      await this.flush();
      const run = await this.#runs.finish(this.id, status);
      this.#state = 'finished';
      if (this.#timer) clearTimeout(this.#timer);
      this.#timer = null;
      return run;
    } catch (e) {
      this.#state = 'active';
      throw e;
    }
  }

  #assertWritable(): void {
    if (this.#state !== 'active') throw new Error(`run ${this.id} is ${this.#state}; start a new run to log more`);
    if (this.#error) {
      const { error } = this.#error;
      this.#error = null;
      throw error;
    }
  }

  /** Points the server refused are gone; say so before claiming a flush succeeded. */
  #throwLostPoints(): void {
    if (!this.#error) return;
    const { error, retained } = this.#error;
    this.#error = null;
    // A retained batch is retried by this flush, which reports afresh if it fails again.
    if (retained === null) throw error;
  }

  #buffer(p: MetricPointInput): void {
    this.#pending.push(p);
    if (this.#pending.length >= this.#maxBatchPoints) this.#flushInBackground();
    else this.#schedule(false);
  }

  #seal(): void {
    while (this.#pending.length > 0) {
      const points = this.#pending.splice(0, this.#maxBatchPoints);
      this.#batches.push({ seq: ++this.#seq, idempotencyKey: crypto.randomUUID(), points });
    }
  }

  #schedule(afterFailure: boolean): void {
    if (this.#timer || this.#state === 'finished') return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#flushInBackground();
    }, this.#flushIntervalMs);
    // Unsent points keep the process alive until sent; a server that stays down does not.
    if (afterFailure) this.#timer.unref();
  }

  #flushInBackground(): void {
    this.#seal();
    this.#drain().then(
      () => {
        if (this.#pending.length > 0 || this.#batches.length > 0) this.#schedule(false);
      },
      (e: unknown) => {
        try {
          this.#onFlushError?.(e);
        } catch {
          // A failing error callback must not turn into an unhandled rejection.
        }
        if (this.#pending.length > 0 || this.#batches.length > 0) this.#schedule(true);
      },
    );
  }

  #drain(): Promise<void> {
    this.#draining ??= this.#sendQueued().finally(() => {
      this.#draining = null;
    });
    return this.#draining;
  }

  /** Sends queued batches one at a time, in order; stops at the first failure. */
  async #sendQueued(): Promise<void> {
    while (this.#batches.length > 0) {
      const batch = this.#batches[0]!;
      try {
        await this.#runs.logMetrics(this.id, batch.points, { idempotencyKey: batch.idempotencyKey });
      } catch (e) {
        const retained = isRetryable(e);
        // Refused outright (bad input, deleted run, no permission): resending cannot help.
        if (!retained) this.#batches.shift();
        this.#error = { error: e, retained: retained ? batch : null };
        throw e;
      }
      this.#batches.shift();
      if (this.#error?.retained === batch) this.#error = null;
    }
  }
}
