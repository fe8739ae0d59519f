import type { DomainEvent, RecordedEvent } from '@chronicle/domain';

/**
 * What an append expects of its stream: the revision of the stream's last event
 * (0-based), `no_stream` for a stream that must not exist yet, or `any`.
 */
export type ExpectedRevision = number | 'no_stream' | 'any';

export interface StreamWrite {
  stream: string;
  expectedRevision: ExpectedRevision;
  events: readonly DomainEvent[];
}

export interface AppendMetadata {
  /** Who acted: `user:<name>` or `system:<component>`. Never empty. */
  actor: string;
  correlationId?: string;
  causationId?: string | null;
  /** Same key again: nothing is appended and the first append's outcome is returned. */
  idempotencyKey?: string;
  /** Fingerprint of the request behind the key, so a key reused for another request is refused. */
  requestHash?: string;
  /** What the command answered; stored with the key and returned on a retry. */
  result?: unknown;
}

export interface AppendResult {
  /** The stored events, in order (empty when nothing was appended). */
  events: RecordedEvent[];
  /** Revision of each written stream after the append. */
  revisions: Record<string, number>;
  /** Global position of the last event written, or of the log's head if none were. */
  lastPosition: number;
  /** True when an idempotency key matched an earlier append and nothing was written. */
  replayed: boolean;
  result: unknown;
}

export interface ReadStreamResult {
  events: RecordedEvent[];
  /** Revision of the stream's last event, -1 if the stream does not exist. */
  revision: number;
}

/** A stored event exactly as persisted: `dataText` is the canonical JSON the hash covers. */
export interface RawEvent {
  position: number;
  id: string;
  stream: string;
  revision: number;
  type: string;
  schemaVersion: number;
  recordedAt: number;
  actor: string;
  correlationId: string;
  causationId: string | null;
  dataText: string;
  hash: string;
}

/**
 * A stored event cut down to what re-hashing its chain needs: `chainInput` is exactly what
 * `chainHash` covers after the previous hash (`\n`, the envelope fields each ended by `\n`, then
 * the stored data), so a verifier hashes `previous` then `chainInput` without rebuilding it.
 * `chainInput` is null when a stored value is of a type whose text the store cannot render
 * as `chainHash` would (only a hand-edited file has those): read that event with readAllRaw.
 */
export type ChainLink = readonly [position: number, stream: string, revision: number, type: string, hash: string, chainInput: string | null];

/** The last event of a stream as the store's head table records it. */
export interface StreamHead {
  stream: string;
  revision: number;
  hash: string;
}

export interface EventStore {
  /** Appends to one or more streams atomically: all events are written or none. */
  append(writes: readonly StreamWrite[], meta: AppendMetadata): Promise<AppendResult>;
  /**
   * The outcome of an earlier append made with the same idempotency key, or null. Command
   * handlers ask before deciding: a retried "create" must not fail as "already exists".
   */
  findReplay(meta: AppendMetadata): Promise<AppendResult | null>;
  readStream(stream: string, opts?: { fromRevision?: number; limit?: number }): Promise<ReadStreamResult>;
  /** Events with a position strictly greater than `after`, in order. */
  readAll(opts: { after: number; limit: number }): Promise<RecordedEvent[]>;
  /** Like readAll, without parsing: for integrity checks, which must hash the stored text. */
  readAllRaw(opts: { after: number; limit: number }): Promise<RawEvent[]>;
  /** Like readAllRaw, as chain links: verifying the whole log is bound by reading it, so stores that can should offer this. */
  readAllChainLinks?(opts: { after: number; limit: number }): Promise<ChainLink[]>;
  /**
   * Reads the log from `after` up to `until` on another thread, for a rebuild that reads all
   * of it: the thread that projects then spends its time projecting. Stores that can should offer this.
   */
  readAhead?(opts: { after: number; until: number; batchSize: number }): LogReadAhead;
  /** Every stream's head and the log's head position, read as one consistent snapshot. */
  readHeads(): Promise<{ position: number; heads: StreamHead[] }>;
  /** Position of the last event in the log (0 when empty). */
  headPosition(): Promise<number>;
  /** Calls `listener` with the new head after every append that wrote events. */
  onAppended(listener: (head: number) => void): () => void;
  close(): Promise<void>;
}

/** The log read by another thread ahead of its consumer, one batch of `batchSize` events at a time. */
export interface LogReadAhead {
  /**
   * The events readAll({ after, limit }) would give, but none past `until` (so the last batch
   * may be short), or null when that is not the next batch read ahead or the reader has passed
   * `until`: the caller then reads from the store itself.
   */
  read(after: number, limit: number): Promise<RecordedEvent[] | null>;
  /** Stops the reader; batches not yet taken are dropped. */
  close(): Promise<void>;
}

export function appendToStream(
  store: EventStore,
  stream: string,
  events: readonly DomainEvent[],
  meta: AppendMetadata & { expectedRevision: ExpectedRevision },
): Promise<AppendResult> {
  const { expectedRevision, ...rest } = meta;
  return store.append([{ stream, expectedRevision, events }], rest);
}
