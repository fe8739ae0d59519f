import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { type EventStore, type LogReadAhead, type SqliteDatabase } from '@chronicle/event-store';
import type { ProjectionDefinition } from '../runner/projection.js';
import { ProjectionRunner, tablesWithHistory } from '../runner/projection-runner.js';
import { createDeferredIndexes, dropDeferrableIndexes } from './deferred-indexes.js';
import { openReadModelsDatabase, SIDECAR_SUFFIXES } from './read-model-file.js';

/** The shadow's page cache: the hot b-tree pages of a bulk build stay in memory. */
const SHADOW_CACHE_KIB = 256 * 1024;

export type ReplayPhase = 'rebuilding' | 'catching_up' | 'swapping' | 'done' | 'failed';

export interface ReplayProgress {
  phase: ReplayPhase;
  /** Position the rebuilt read models have reached. */
  position: number;
  /** Head of the log when this figure was taken; it moves while the server keeps ingesting. */
  head: number;
  /** Events applied so far. */
  events: number;
  elapsedMs: number;
  eventsPerSecond: number;
  /** Seconds left at the current rate, null until there is a rate. */
  etaSeconds: number | null;
}

export interface ReplayResult {
  /** The rebuilt read models were swapped in at this position. */
  position: number;
  events: number;
  ms: number;
  eventsPerSecond: number;
  tables: number;
  rows: number;
}

export interface ReplayOptions {
  store: EventStore;
  /**
   * Puts the rebuilt file (closed) in place of the live read models' file and returns the
   * connection to it, for the live runner. Milliseconds at any size: nothing is copied.
   */
  replaceFile: (shadowPath: string) => SqliteDatabase | void;
  projections: readonly ProjectionDefinition[];
  /** A path for the scratch database the read models are rebuilt in; removed afterwards. */
  shadowPath: string;
  /** The live runner, when a server is projecting into the live file: paused for the swap, then reloaded onto the new one. */
  liveRunner?: ProjectionRunner;
  batchSize?: number;
  onProgress?: (p: ReplayProgress) => void;
  signal?: AbortSignal;
  /** Monotonic milliseconds. */
  clock?: () => number;
  /** As the live runner's option: rebuild time travel's versions too (the default). */
  timeTravel?: boolean;
}

/**
 * Rebuilds every read model from the log into a fresh database file, catches up with the
 * events appended meanwhile, and puts the result in place of the live read models' file.
 */
export async function replayReadModels(opts: ReplayOptions): Promise<ReplayResult> {
  const clock = opts.clock ?? (() => performance.now());
  const tablesOf = (p: ProjectionDefinition) => (opts.timeTravel ?? true ? tablesWithHistory(p) : p.tables);
  const started = clock();
  const batchSize = opts.batchSize ?? 4096;
  removeDatabaseFiles(opts.shadowPath);
  const shadow = openShadow(opts.shadowPath);
  let events = 0;
  let phase: ReplayPhase = 'rebuilding';
  let head = await opts.store.headPosition();
  let lastHeadCheck = started;
  const progress = (position: number): ReplayProgress => {
    const elapsedMs = clock() - started;
    const eventsPerSecond = elapsedMs > 0 ? (events / elapsedMs) * 1000 : 0;
    return {
      phase,
      position,
      head,
      events,
      elapsedMs,
      eventsPerSecond,
      etaSeconds: eventsPerSecond > 0 ? Math.max(0, head - position) / eventsPerSecond : null,
    };
  };
  // The rebuild reads the whole log once: another thread reads it ahead where the store can.
  const ahead = opts.store.readAhead?.({ after: 0, until: head, batchSize });
  const runner = new ProjectionRunner({
    store: ahead ? readingAhead(opts.store, ahead) : opts.store,
    db: shadow,
    projections: opts.projections,
    batchSize,
    yieldBetweenBatches: true,
    timeTravel: opts.timeTravel ?? true,
    onBatch: (b) => {
      events += b.events;
      opts.signal?.throwIfAborted();
      if (clock() - lastHeadCheck > 250) {
        lastHeadCheck = clock();
        void opts.store.headPosition().then((h) => (head = h));
      }
      opts.onProgress?.(progress(b.to));
    },
  });
  // Built after the bulk load, before the catch-up: one sort each instead of a b-tree insert per row.
  const deferred = dropDeferrableIndexes(shadow, opts.projections.flatMap((p) => p.tables));
  try {
    // Chase the head until one batch is left: under steady ingestion "empty" never comes.
    for (let target = head; ; target = await opts.store.headPosition()) {
      await runner.waitFor(target);
      if ((await opts.store.headPosition()) - runner.position < batchSize) break;
    }
    const resumeShadow = await runner.pause();
    throwIfFailed(runner, opts.signal);
    createDeferredIndexes(shadow, deferred);
    phase = 'catching_up';
    opts.onProgress?.(progress(runner.position));
    const resume = await opts.liveRunner?.pause();
    let rows = 0;
    // Counted once the live runner runs again: a count is a scan of every table.
    let countIn: SqliteDatabase | null = null;
    const tables = opts.projections.flatMap(tablesOf);
    try {
      // The live runner is parked at its position; the rebuilt models must reach at least it,
      // or a write already acknowledged would vanish from the read models at the swap. Writers
      // wait for the live runner now, so the head stops moving but for requests in flight.
      resumeShadow();
      await runner.catchUp();
      throwIfFailed(runner, opts.signal);
      head = runner.position;
      phase = 'swapping';
      opts.onProgress?.(progress(runner.position));
      // Time travel's versions tables are read models too: rebuilt and swapped with the rest.
      if (!opts.liveRunner) rows = countRows(shadow, tables);
      shadow.close();
      const replaced = opts.replaceFile(opts.shadowPath);
      if (opts.liveRunner) {
        if (!replaced) throw new Error('replaceFile must return the new connection for the live runner');
        opts.liveRunner.reload(replaced);
        countIn = replaced;
      }
    } finally {
      resume?.();
    }
    if (countIn) rows = countRows(countIn, tables);
    phase = 'done';
    const done = progress(runner.position);
    opts.onProgress?.(done);
    return {
      position: runner.position,
      events,
      ms: done.elapsedMs,
      eventsPerSecond: done.eventsPerSecond,
      tables: opts.projections.reduce((n, p) => n + tablesOf(p).length, 0),
      rows,
    };
  } catch (e) {
    phase = 'failed';
    throw e;
  } finally {
    await ahead?.close();
    if (shadow.open) shadow.close();
    removeDatabaseFiles(opts.shadowPath);
  }
}

/**
 * A scratch database: rebuildable by definition, so no fsyncs and no journal at all (with a
 * write-ahead log each batch's pages were written twice, and every checkpoint synced). No
 * journal means no rollback, which is fine here: a failed batch fails the replay, and the
 * file is thrown away. Only this connection uses it, so it holds its lock throughout.
 */
function openShadow(path: string): SqliteDatabase {
  const db = openReadModelsDatabase(path);
  db.pragma('journal_mode = OFF');
  // Lets SQLite sort on more cores when it builds the deferred indexes.
  db.pragma(`threads = ${Math.min(4, availableParallelism())}`);
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('synchronous = OFF');
  db.pragma(`cache_size = -${SHADOW_CACHE_KIB}`);
  db.pragma('case_sensitive_like = ON');
  return db;
}

function countRows(db: SqliteDatabase, tables: readonly string[]): number {
  return tables.reduce((n, t) => n + (db.prepare(`SELECT count(*) FROM ${t}`).pluck().get() as number), 0);
}

/** `store`, whose readAll serves the batches read ahead first. */
function readingAhead(store: EventStore, ahead: LogReadAhead): EventStore {
  const readAll: EventStore['readAll'] = async (q) => (await ahead.read(q.after, q.limit)) ?? store.readAll(q);
  return new Proxy(store, { get: (target, key) => (key === 'readAll' ? readAll : Reflect.get(target, key)) });
}

/** The runner reports a failed batch through its error hook; catchUp itself resolves. */
function throwIfFailed(runner: ProjectionRunner, signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
  const failure = runner.error;
  if (failure) throw failure;
}

function removeDatabaseFiles(path: string): void {
  for (const suffix of ['', ...SIDECAR_SUFFIXES]) rmSync(`${path}${suffix}`, { force: true });
}
