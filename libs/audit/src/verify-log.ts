import { createPublicKey } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { chainHash, GENESIS_HASH, type EventStore, type RawEvent, type StreamHead } from '@chronicle/event-store';
import { brokenLinks, ChainHashPool, type ChainLinkBatch } from './chain-hash-pool.js';
import { AUDIT_SEALED, AUDIT_SEALS_STREAM, headsDigest, isAuditSealedData, signatureValid, type HeadState } from './seal.js';

export type BreakKind =
  /** The stored hash is not the hash of the stored event chained to its predecessor. */
  | 'hash_mismatch'
  /** A stream skips a revision: an event was deleted, or events were reordered. */
  | 'revision_gap'
  /** A stream goes back to an earlier revision: events were reordered or duplicated. */
  | 'revision_out_of_order'
  /** The global log skips positions: events were deleted. */
  | 'position_gap'
  /** The head table says a stream goes further than its events do: its tail was deleted. */
  | 'missing_tail'
  /** A stream has events beyond the revision the head table records: events were inserted. */
  | 'unrecorded_events'
  /** The stream ends at the recorded revision, but not with the recorded hash. */
  | 'head_mismatch'
  | 'seal_invalid'
  | 'seal_untrusted_key'
  /** A valid seal whose digest differs from the heads the log has at the sealed position. */
  | 'seal_mismatch';

export interface IntegrityBreak {
  kind: BreakKind;
  stream: string | null;
  /** The first revision of `stream` at which the chain does not hold. */
  revision: number | null;
  /** Where in the log the break shows (the event found in place of the expected one). */
  position: number | null;
  reason: string;
}

export interface IntegrityReport {
  ok: boolean;
  /** The log was verified up to this position (the head when verification started). */
  headPosition: number;
  events: number;
  streams: number;
  bytesHashed: number;
  ms: number;
  seals: { verified: number; lastSealedPosition: number | null };
  /** The first break that names a stream (else the first break): where to start looking. */
  firstBreak: IntegrityBreak | null;
  /** Every break found, in log order, up to `maxBreaks`. */
  breaks: IntegrityBreak[];
  breaksTruncated: boolean;
}

export interface VerifyOptions {
  /** Events read per batch; metric batches can be megabytes each, so keep it modest. */
  batchSize?: number;
  maxBreaks?: number;
  /** Public keys (PEM) allowed to sign seals; any key is accepted (and only signatures checked) if omitted. */
  trustedSealKeys?: readonly string[];
  /** Monotonic milliseconds, for the report's `ms`. */
  clock?: () => number;
  /**
   * Worker threads that hash chain links while the main thread reads the log; 0 hashes on the
   * main thread. Default: up to 2 for logs of more than 20,000 events, else 0 (starting
   * threads costs more than hashing a small log).
   */
  hashThreads?: number;
}

const PARALLEL_FROM_EVENTS = 20_000;
/** Batches hashed ahead of the one whose results are awaited: enough to keep every thread busy. */
const BATCHES_IN_FLIGHT = 4;

/** Seals are checked against the heads at their sealed position, which may lie a few events back. */
const UNDO_CAPACITY = 65_536;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** What chainHash hashes besides the data: the previous hash, the envelope fields and ten newlines. */
function envelopeBytes(e: RawEvent): number {
  // UUIDs, digits and hashes are ASCII; the free-text fields are measured in one call.
  const text = utf8(e.stream + e.type + e.actor + e.correlationId + (e.causationId ?? ''));
  return 64 + e.id.length + String(e.revision).length + String(e.schemaVersion).length + String(e.recordedAt).length + text + 10;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Streams the whole log in position order, recomputes every stream's hash chain from the stored
 * bytes, compares the result with the store's head table, and checks every seal on the way.
 */
export async function verifyLog(store: EventStore, opts: VerifyOptions = {}): Promise<IntegrityReport> {
  const clock = opts.clock ?? (() => performance.now());
  const started = clock();
  const batchSize = opts.batchSize ?? 1024;
  const maxBreaks = opts.maxBreaks ?? 100;
  const trusted = opts.trustedSealKeys ? new Set(opts.trustedSealKeys.map(normalisePem)) : null;

  // Snapshot first: events appended while we scan are outside this verification.
  const snapshot = await store.readHeads();
  const heads = new Map<string, HeadState>();
  let sortedStreams: string[] | null = [];
  // A ring of (stream, its head before the event at that position): parallel arrays, no object per event.
  const undoStream: (string | undefined)[] = new Array(UNDO_CAPACITY);
  const undoPrevious: (HeadState | undefined)[] = new Array(UNDO_CAPACITY);
  const breaks: IntegrityBreak[] = [];
  let breaksTruncated = false;
  const record = (b: IntegrityBreak) => {
    if (breaks.length < maxBreaks) breaks.push(b);
    else breaksTruncated = true;
  };
  // The breaks found while reading a batch wait for that batch's hash results, so that all
  // breaks are recorded in log order whichever thread found them.
  let batchBreaks: IntegrityBreak[] = [];
  const report = (b: IntegrityBreak) => batchBreaks.push(b);
  const threads = opts.hashThreads ?? (snapshot.position > PARALLEL_FROM_EVENTS ? Math.min(2, availableParallelism()) : 0);
  const pool = threads > 0 ? new ChainHashPool(threads) : null;
  let links: ChainLinkBatch & { at: { position: number; stream: string; revision: number }[] } = { previous: [], input: [], expected: [], at: [] };
  const inFlight: { breaks: IntegrityBreak[]; at: typeof links.at; broken: Promise<number[]> }[] = [];
  function endBatch(): void {
    const { at, ...batch } = links;
    const broken = pool ? pool.check(batch) : Promise.resolve(brokenLinks(batch));
    // Awaited in order later; until then a failed worker must not count as an unhandled rejection.
    broken.catch(() => undefined);
    inFlight.push({ breaks: batchBreaks, at, broken });
    links = { previous: [], input: [], expected: [], at: [] };
    batchBreaks = [];
  }
  async function recordOldestBatch(): Promise<void> {
    const done = inFlight.shift()!;
    const found = [
      ...done.breaks,
      ...(await done.broken).map(
        (i): IntegrityBreak => ({
          kind: 'hash_mismatch',
          ...done.at[i]!,
          reason: 'the stored hash does not match the event’s content chained to its predecessor: this event (or its hash) was changed',
        }),
      ),
    ];
    // Stable: breaks at one position keep the order they were found in.
    found.sort((a, b) => (a.position ?? Number.POSITIVE_INFINITY) - (b.position ?? Number.POSITIVE_INFINITY));
    found.forEach(record);
  }
  let events = 0;
  let bytesHashed = 0;
  let sealsVerified = 0;
  let lastSealedPosition: number | null = null;
  let lastPosition = 0;

  function headsAt(position: number, now: number): StreamHead[] | null {
    if (now - position > UNDO_CAPACITY) return null;
    const overrides = new Map<string, HeadState | undefined>();
    // Undo newest first, so the oldest change of each stream decides its state at `position`.
    for (let p = now; p > position; p--) {
      const stream = undoStream[p % UNDO_CAPACITY];
      if (stream !== undefined) overrides.set(stream, undoPrevious[p % UNDO_CAPACITY]);
    }
    sortedStreams ??= [...heads.keys()].sort(byName);
    const out: StreamHead[] = [];
    for (const stream of sortedStreams) {
      const h = overrides.has(stream) ? overrides.get(stream) : heads.get(stream);
      if (h) out.push({ stream, revision: h.revision, hash: h.hash });
    }
    return out;
  }

  function checkSeal(e: RawEvent): void {
    const at = { stream: e.stream, revision: e.revision, position: e.position };
    let data: unknown;
    try {
      data = JSON.parse(e.dataText);
    } catch {
      data = null;
    }
    if (!isAuditSealedData(data) || !signatureValid(data)) {
      report({ kind: 'seal_invalid', ...at, reason: 'the seal is malformed or its signature does not verify' });
      return;
    }
    if (trusted && !trusted.has(normalisePem(data.publicKey))) {
      report({ kind: 'seal_untrusted_key', ...at, reason: 'the seal is signed by a key that is not the server’s seal key' });
      return;
    }
    const sealed = data.position >= e.position ? null : headsAt(data.position, e.position - 1);
    if (!sealed) {
      report({ kind: 'seal_mismatch', ...at, reason: `the seal covers position ${data.position}, which this verifier cannot reconstruct` });
      return;
    }
    if (sealed.length !== data.streams || headsDigest(sealed) !== data.digest) {
      report({
        kind: 'seal_mismatch',
        ...at,
        reason: `the stream heads at position ${data.position} differ from the ones sealed (${data.streams} streams): events up to that position were changed`,
      });
      return;
    }
    sealsVerified++;
    lastSealedPosition = data.position;
  }

  /**
   * One event in log order. `chainInput` (see ChainLink) is hashed after the previous hash when
   * given; otherwise `raw` is, through chainHash itself. Seals always come with `raw`.
   */
  function visit(position: number, stream: string, revision: number, hash: string, chainInput: string | null, raw: RawEvent | null): void {
    if (position !== lastPosition + 1)
      report({
        kind: 'position_gap',
        stream: null,
        revision: null,
        position: lastPosition + 1,
        reason: `positions ${lastPosition + 1}..${position - 1} are missing from the log`,
      });
    lastPosition = position;
    const head = heads.get(stream);
    const expected = head ? head.revision + 1 : 0;
    if (revision !== expected) {
      report({
        kind: revision > expected ? 'revision_gap' : 'revision_out_of_order',
        stream,
        revision: expected,
        position,
        reason:
          revision > expected
            ? `revision ${expected} is missing: the next event in the log is revision ${revision}`
            : `revision ${revision} appears again after revision ${expected - 1}: events were reordered or duplicated`,
      });
    } else {
      const previous = head?.hash ?? GENESIS_HASH;
      if (chainInput !== null) {
        links.previous.push(previous);
        links.input.push(chainInput);
        links.expected.push(hash);
        links.at.push({ position, stream, revision });
      } else if (chainHash(previous, raw!, raw!.dataText) !== hash)
        report({
          kind: 'hash_mismatch',
          stream,
          revision,
          position,
          reason: 'the stored hash does not match the event’s content chained to its predecessor: this event (or its hash) was changed',
        });
    }
    bytesHashed += chainInput !== null ? 64 + utf8(chainInput) : envelopeBytes(raw!) + utf8(raw!.dataText);
    events++;
    // A seal covers the log before it, so it is checked before it joins the heads.
    if (raw && raw.stream === AUDIT_SEALS_STREAM && raw.type === AUDIT_SEALED) checkSeal(raw);
    // Carry on from what is stored, so one edited event is reported once, not once per successor.
    if (!head) sortedStreams = null;
    undoStream[position % UNDO_CAPACITY] = stream;
    undoPrevious[position % UNDO_CAPACITY] = head;
    heads.set(stream, { revision, hash });
  }

  async function rawAt(position: number): Promise<RawEvent> {
    const [raw] = await store.readAllRaw({ after: position - 1, limit: 1 });
    if (!raw || raw.position !== position) throw new Error(`event ${position} vanished from the log while it was being verified`);
    return raw;
  }

  try {
    for (let after = 0; after < snapshot.position; ) {
      const limit = Math.min(batchSize, snapshot.position - after);
      if (store.readAllChainLinks) {
        const batch = await store.readAllChainLinks({ after, limit });
        if (batch.length === 0) break;
        for (let i = 0; i < batch.length; i++) {
          const link = batch[i]!;
          // Seals need their data parsed, and rare hand-edited rows their typed fields: both are few.
          if (link[5] === null || (link[1] === AUDIT_SEALS_STREAM && link[3] === AUDIT_SEALED)) {
            const raw = await rawAt(link[0]);
            visit(raw.position, raw.stream, raw.revision, raw.hash, null, raw);
          } else visit(link[0], link[1], link[2], link[4], link[5], null);
        }
        after = batch[batch.length - 1]![0];
      } else {
        const batch = await store.readAllRaw({ after, limit });
        if (batch.length === 0) break;
        for (const e of batch) visit(e.position, e.stream, e.revision, e.hash, null, e);
        after = batch[batch.length - 1]!.position;
      }
      endBatch();
      if (inFlight.length > BATCHES_IN_FLIGHT) await recordOldestBatch();
    }
    endBatch();
    while (inFlight.length > 0) await recordOldestBatch();
  } finally {
    await pool?.close();
  }
  if (lastPosition < snapshot.position)
    record({
      kind: 'position_gap',
      stream: null,
      revision: null,
      position: lastPosition + 1,
      reason: `positions ${lastPosition + 1}..${snapshot.position} are missing from the end of the log`,
    });

  compareWithHeadTable(heads, snapshot.heads, record);

  const firstBreak = breaks.find((b) => b.stream !== null) ?? breaks[0] ?? null;
  return {
    ok: breaks.length === 0,
    headPosition: snapshot.position,
    events,
    streams: heads.size,
    bytesHashed,
    ms: clock() - started,
    seals: { verified: sealsVerified, lastSealedPosition },
    firstBreak,
    breaks,
    breaksTruncated,
  };
}

function compareWithHeadTable(scanned: Map<string, HeadState>, recorded: readonly StreamHead[], report: (b: IntegrityBreak) => void) {
  const recordedByStream = new Map(recorded.map((h) => [h.stream, h]));
  for (const h of recorded) {
    const s = scanned.get(h.stream);
    if (!s || s.revision < h.revision)
      report({
        kind: 'missing_tail',
        stream: h.stream,
        revision: s ? s.revision + 1 : 0,
        position: null,
        reason: `the stream should end at revision ${h.revision}, but its events ${s ? `stop at revision ${s.revision}` : 'are all missing'}: events were deleted`,
      });
    else if (s.revision > h.revision)
      report({
        kind: 'unrecorded_events',
        stream: h.stream,
        revision: h.revision + 1,
        position: null,
        reason: `the stream should end at revision ${h.revision}, but has events up to revision ${s.revision}: events were inserted`,
      });
    else if (s.hash !== h.hash)
      report({
        kind: 'head_mismatch',
        stream: h.stream,
        revision: h.revision,
        position: null,
        reason: 'the last event’s hash differs from the recorded head hash: the stream was rewritten',
      });
  }
  for (const [stream, s] of scanned)
    if (!recordedByStream.has(stream))
      report({
        kind: 'unrecorded_events',
        stream,
        revision: 0,
        position: null,
        reason: `the head table has no record of this stream, yet it has ${s.revision + 1} events: they were inserted`,
      });
}

function normalisePem(pem: string): string {
  return createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');
}

