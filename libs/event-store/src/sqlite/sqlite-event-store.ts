import { randomUUID } from 'node:crypto';
import { ConcurrencyConflict, ValidationFailed, type RecordedEvent } from '@chronicle/domain';
import { canonicalJson, canonicalValue } from '../canonical-json.js';
import { chainHash, GENESIS_HASH } from '../hash-chain.js';
import type { AppendMetadata, AppendResult, ChainLink, EventStore, ExpectedRevision, RawEvent, ReadStreamResult, StreamHead, StreamWrite } from '../port.js';
import { domainUpcasterRegistry, type UpcasterRegistry } from '../upcasting/upcaster-registry.js';
import { openSqliteDatabase, type SqliteDatabase } from './open-database.js';
import { EVENT_COLUMNS, EVENT_DATA, eventFromRow } from './event-row.js';
import { readAheadOnWorker } from './read-ahead.js';

export interface SqliteEventStoreOptions {
  /** A file path, or an already open database shared with the read models. */
  path?: string;
  db?: SqliteDatabase;
  clock?: () => number;
  /** Turns old event shapes into current ones on read; the domain's upcasters by default. */
  upcasters?: UpcasterRegistry;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position        INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  stream          TEXT NOT NULL,
  revision        INTEGER NOT NULL,
  type            TEXT NOT NULL,
  schema_version  INTEGER NOT NULL,
  recorded_at     INTEGER NOT NULL,
  actor           TEXT NOT NULL,
  correlation_id  TEXT NOT NULL,
  causation_id    TEXT,
  data            TEXT NOT NULL,
  hash            TEXT NOT NULL,
  UNIQUE (stream, revision)
);
CREATE TABLE IF NOT EXISTS streams (
  stream    TEXT PRIMARY KEY,
  revision  INTEGER NOT NULL,
  hash      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency (
  key             TEXT PRIMARY KEY,
  request_hash    TEXT,
  result          TEXT,
  last_position   INTEGER NOT NULL,
  recorded_at     INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** Beyond 2^53 a JS number no longer prints the stored digits, so chainHash and SQLite would disagree. */
const SAFE_INTEGER = (c: string) => `typeof(${c}) = 'integer' AND ${c} BETWEEN -9007199254740991 AND 9007199254740991`;

/**
 * What chainHash covers after the previous hash, concatenated by SQLite: integers print as in JS,
 * and text is the stored UTF-8 either way. Any other stored type (a hand-edited file) yields NULL,
 * for the caller to hash that event from readAllRaw as chainHash does.
 */
const CHAIN_INPUT = `CASE WHEN ${SAFE_INTEGER('revision')} AND ${SAFE_INTEGER('schema_version')} AND ${SAFE_INTEGER('recorded_at')}
  AND typeof(id) = 'text' AND typeof(stream) = 'text' AND typeof(type) = 'text' AND typeof(actor) = 'text'
  AND typeof(correlation_id) = 'text' AND typeof(causation_id) IN ('text', 'null') AND typeof(data) = 'text' AND typeof(hash) = 'text'
THEN '\n' || id || '\n' || stream || '\n' || revision || '\n' || type || '\n' || schema_version || '\n' || recorded_at
  || '\n' || actor || '\n' || correlation_id || '\n' || ifnull(causation_id, '') || '\n' || data END`;

interface EventRow {
  position: number;
  id: string;
  stream: string;
  revision: number;
  type: string;
  schema_version: number;
  recorded_at: number;
  actor: string;
  correlation_id: string;
  causation_id: string | null;
  data: string;
  hash: string;
}

const toRecorded = (r: EventRow): RecordedEvent => ({
  id: r.id,
  type: r.type,
  schemaVersion: r.schema_version,
  stream: r.stream,
  revision: r.revision,
  position: r.position,
  recordedAt: r.recorded_at,
  actor: r.actor,
  correlationId: r.correlation_id,
  causationId: r.causation_id,
  data: JSON.parse(r.data),
  hash: r.hash,
});

function expectedToNumber(e: ExpectedRevision): number | null {
  if (e === 'any') return null;
  if (e === 'no_stream') return -1;
  return e;
}

export function createSqliteEventStore(options: SqliteEventStoreOptions): EventStore & { db: SqliteDatabase } {
  const db = options.db ?? openSqliteDatabase(options.path ?? ':memory:');
  const ownsDb = !options.db;
  const clock = options.clock ?? Date.now;
  const upcasters = options.upcasters ?? domainUpcasterRegistry;
  const toCurrent = (r: EventRow) => upcasters.upcast(toRecorded(r));
  db.exec(SCHEMA);

  const q = {
    head: db.prepare<[], { p: number | null }>('SELECT max(position) AS p FROM events'),
    stream: db.prepare<[string], { revision: number; hash: string }>('SELECT revision, hash FROM streams WHERE stream = ?'),
    upsertStream: db.prepare(
      'INSERT INTO streams (stream, revision, hash) VALUES (?, ?, ?) ON CONFLICT(stream) DO UPDATE SET revision = excluded.revision, hash = excluded.hash',
    ),
    insert: db.prepare(
      'INSERT INTO events (position, id, stream, revision, type, schema_version, recorded_at, actor, correlation_id, causation_id, data, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
    ),
    idem: db.prepare<[string], { request_hash: string | null; result: string | null; last_position: number }>(
      'SELECT request_hash, result, last_position FROM idempotency WHERE key = ?',
    ),
    saveIdem: db.prepare(
      'INSERT INTO idempotency (key, request_hash, result, last_position, recorded_at) VALUES (?, ?, ?, ?, ?)',
    ),
    readStream: db.prepare<[string, number, number], EventRow>(
      'SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?',
    ),
    readAll: db.prepare<[number, number], unknown[]>(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`).raw(true),
    // Columns named as RawEvent's fields: integrity checks read every byte of the log, so no per-row remapping.
    readAllRaw: db.prepare<[number, number], RawEvent>(
      'SELECT position, id, stream, revision, type, schema_version AS schemaVersion, recorded_at AS recordedAt, actor, correlation_id AS correlationId, causation_id AS causationId, data AS dataText, hash FROM events WHERE position > ? ORDER BY position LIMIT ?',
    ),
    // Arrays, not objects, and one string for the hashed text instead of ten: reading is most of verifying.
    readAllChainLinks: db.prepare<[number, number], ChainLink>(`SELECT position, stream, revision, type, hash, ${CHAIN_INPUT} FROM events WHERE position > ? ORDER BY position LIMIT ?`).raw(true),
    heads: db.prepare<[], StreamHead>('SELECT stream, revision, hash FROM streams ORDER BY stream'),
  };
  // A deferred read transaction: the head position and the head table come from one snapshot.
  const readHeadsTx = db.transaction(() => ({ position: q.head.get()?.p ?? 0, heads: q.heads.all() }));

  const listeners = new Set<(head: number) => void>();
  // The events just appended, as objects: the in-process projection runner reads them next,
  // and parsing back JSON we serialised a moment ago would double the cost of ingestion.
  // Bounded by the size of the stored JSON, since one metric batch can be megabytes.
  const recent = new Map<number, { event: RecordedEvent; bytes: number }>();
  const RECENT_MAX_BYTES = 8 * 1024 * 1024;
  let recentBytes = 0;
  function remember(events: readonly { event: RecordedEvent; bytes: number }[]): void {
    for (const e of events) {
      recent.set(e.event.position, e);
      recentBytes += e.bytes;
    }
    while (recentBytes > RECENT_MAX_BYTES && recent.size > 0) {
      const [position, oldest] = recent.entries().next().value!;
      recent.delete(position);
      recentBytes -= oldest.bytes;
    }
  }

  function replayOf(key: string, meta: AppendMetadata): AppendResult | null {
    const prior = q.idem.get(key);
    if (!prior) return null;
    if (meta.requestHash !== undefined && prior.request_hash !== null && prior.request_hash !== meta.requestHash)
      throw new ConcurrencyConflict(
        `idempotency key "${key}" was already used for a different request; use a new key for a new request`,
        { idempotencyKey: key },
      );
    return {
      events: [],
      revisions: {},
      lastPosition: prior.last_position,
      replayed: true,
      result: prior.result === null ? null : JSON.parse(prior.result),
    };
  }

  const appendTx = db.transaction((writes: readonly StreamWrite[], meta: AppendMetadata): AppendResult & { sizes?: number[] } => {
    if (meta.idempotencyKey !== undefined) {
      const replay = replayOf(meta.idempotencyKey, meta);
      if (replay) return replay;
    }
    let position = q.head.get()?.p ?? 0;
    const recordedAt = clock();
    const correlationId = meta.correlationId ?? randomUUID();
    const causationId = meta.causationId ?? null;
    const recorded: RecordedEvent[] = [];
    const sizes: number[] = [];
    const revisions: Record<string, number> = {};
    for (const w of writes) {
      const current = q.stream.get(w.stream);
      let revision = current?.revision ?? -1;
      let previousHash = current?.hash ?? GENESIS_HASH;
      const expected = expectedToNumber(w.expectedRevision);
      if (expected !== null && expected !== revision)
        throw new ConcurrencyConflict(
          revision === -1
            ? `stream ${w.stream} does not exist yet (expected revision ${expected})`
            : `stream ${w.stream} changed concurrently: it is at revision ${revision}, not ${expected}; reload and retry`,
          { stream: w.stream, expected, actual: revision },
        );
      for (const e of w.events) {
        revision += 1;
        position += 1;
        const env = {
          id: randomUUID(),
          stream: w.stream,
          revision,
          type: e.type,
          schemaVersion: upcasters.currentVersion(e.type),
          recordedAt,
          actor: meta.actor,
          correlationId,
          causationId,
        };
        const dataText = canonicalJson(e.data);
        const hash = chainHash(previousHash, env, dataText);
        q.insert.run(
          position,
          env.id,
          env.stream,
          env.revision,
          env.type,
          env.schemaVersion,
          env.recordedAt,
          env.actor,
          env.correlationId,
          env.causationId,
          dataText,
          hash,
        );
        // What parsing the stored text would give (same keys in the same order), without parsing it.
        recorded.push({ ...env, position, data: canonicalValue(e.data), hash });
        sizes.push(dataText.length);
        previousHash = hash;
      }
      if (w.events.length > 0) q.upsertStream.run(w.stream, revision, previousHash);
      revisions[w.stream] = revision;
    }
    if (meta.idempotencyKey !== undefined)
      q.saveIdem.run(
        meta.idempotencyKey,
        meta.requestHash ?? null,
        meta.result === undefined ? null : JSON.stringify(meta.result),
        position,
        recordedAt,
      );
    return {
      events: recorded,
      revisions,
      lastPosition: position,
      replayed: false,
      result: meta.result ?? null,
      sizes,
    };
  });

  return {
    db,
    async append(writes, meta) {
      if (!meta.actor) throw new ValidationFailed('every append needs an actor');
      const { sizes, ...result } = appendTx.immediate(writes, meta);
      if (result.events.length > 0) {
        remember(result.events.map((event, i) => ({ event, bytes: sizes![i]! })));
        for (const l of listeners) l(result.lastPosition);
      }
      return result;
    },
    async findReplay(meta) {
      return meta.idempotencyKey === undefined ? null : replayOf(meta.idempotencyKey, meta);
    },
    async readStream(stream, opts = {}): Promise<ReadStreamResult> {
      const rows = q.readStream.all(stream, opts.fromRevision ?? 0, opts.limit ?? -1);
      const revision = q.stream.get(stream)?.revision ?? -1;
      return { events: rows.map(toCurrent), revision };
    },
    async readAll({ after, limit }) {
      if (recent.has(after + 1)) {
        const out: RecordedEvent[] = [];
        for (let p = after + 1; out.length < limit; p++) {
          const e = recent.get(p);
          if (!e) break;
          out.push(e.event);
        }
        // Only a contiguous run up to the head is safe to serve from memory.
        if (out.length === limit || out[out.length - 1]!.position === (q.head.get()?.p ?? 0)) return out;
      }
      return q.readAll.all(after, limit).map((r) => upcasters.upcast(eventFromRow(r, 0, JSON.parse(r[EVENT_DATA] as string))));
    },
    async readAllRaw({ after, limit }) {
      return q.readAllRaw.all(after, limit);
    },
    async readAllChainLinks({ after, limit }) {
      return q.readAllChainLinks.all(after, limit);
    },
    ...(db.memory
      ? {}
      : { readAhead: ({ after, until, batchSize }: { after: number; until: number; batchSize: number }) => readAheadOnWorker({ path: db.name, after, until, batchSize, upcasters }) }),
    async readHeads() {
      return readHeadsTx();
    },
    async headPosition() {
      return q.head.get()?.p ?? 0;
    },
    onAppended(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      if (ownsDb && db.open) db.close();
    },
  };
}
