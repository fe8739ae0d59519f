import type { RecordedEvent } from '@chronicle/domain';
import type { Statement } from 'better-sqlite3';
import type { EventStore, SqliteDatabase } from '@chronicle/event-store';
import { EventPosition } from '../temporal/event-position.js';
import { temporalTablesOf } from '../temporal/table-timing.js';
import { installTimeTravel, uninstallTimeTravel } from '../temporal/versioning.js';
import type { ProjectionDefinition, ProjectionHandler } from './projection.js';

export interface ProjectionRunnerOptions {
  store: EventStore;
  db: SqliteDatabase;
  projections: readonly ProjectionDefinition[];
  /** Events per transaction: big enough to amortise the commit, small enough to keep latency low. */
  batchSize?: number;
  /** Gives the event loop a turn after every batch (a rebuild running beside a serving process). */
  yieldBetweenBatches?: boolean;
  onBatch?: (info: { from: number; to: number; events: number; ms: number }) => void;
  onError?: (error: unknown) => void;
  /**
   * Keep the past of every read model for time travel (temporal/): on by default. Off for a
   * throwaway database that is only ever read at its head.
   */
  timeTravel?: boolean;
}

interface Waiter {
  position: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** PRAGMA synchronous reads back as a number: OFF 0, NORMAL 1, FULL 2, EXTRA 3. */
const SYNCHRONOUS_NORMAL = 1;

const CHECKPOINTS = `CREATE TABLE IF NOT EXISTS projection_checkpoints (
  name TEXT PRIMARY KEY, position INTEGER NOT NULL, tables TEXT NOT NULL
) WITHOUT ROWID`;

/**
 * Feeds the global log to every projection, in batched transactions with durable
 * checkpoints. A projection whose name (version) is new is rebuilt from the start.
 */
export class ProjectionRunner {
  private projections: { name: string; handler: ProjectionHandler }[];
  private readonly checkpoints = new Map<string, number>();
  private readonly waiters: Waiter[] = [];
  private readonly batchSize: number;
  private running: Promise<void> | null = null;
  private again = false;
  private unsubscribe: (() => void) | null = null;
  private failure: unknown = null;
  private saveCheckpoint!: Statement<[string, number, string]>;
  private readonly tablesOf = new Map<string, string>();
  private paused = false;
  /** Dates every write for time travel's versioning triggers. */
  private eventPosition!: EventPosition;
  /** The read models' connection: replaced by reload() when a replay swapped in another file. */
  private db: SqliteDatabase;

  constructor(private readonly opts: ProjectionRunnerOptions) {
    // With nothing to checkpoint, the position would stay 0 and catching up re-read the log forever.
    if (opts.projections.length === 0) throw new Error('a projection runner needs at least one projection');
    const { db } = opts;
    this.db = db;
    this.bind(db);
    this.batchSize = opts.batchSize ?? 2000;
    const known = new Map(
      db
        .prepare<[], { name: string; position: number; tables: string }>('SELECT * FROM projection_checkpoints')
        .all()
        .map((r) => [r.name, r]),
    );
    const timeTravel = opts.timeTravel ?? true;
    for (const def of opts.projections) this.tablesOf.set(def.name, JSON.stringify(timeTravel ? tablesWithHistory(def) : def.tables));
    // A projection replaced by a new version (or removed) leaves its tables behind: drop them
    // before the new version creates its own, which may share names but not columns. So does
    // one whose tables differ from those recorded (time travel's versions were added): it is
    // rebuilt, or its past would be missing.
    db.transaction(() => {
      for (const [name, row] of known) {
        const expected = this.tablesOf.get(name);
        if (expected !== undefined && sameTables(row.tables, expected)) continue;
        const stale = new Set([...(JSON.parse(row.tables) as string[]), ...(expected ? (JSON.parse(expected) as string[]) : [])]);
        for (const t of stale) db.exec(`DROP TABLE IF EXISTS ${t}`);
        db.prepare('DELETE FROM projection_checkpoints WHERE name = ?').run(name);
        known.delete(name);
      }
    })();
    this.projections = opts.projections.map((def) => {
      const handler = def.open(db);
      const row = known.get(def.name);
      // No checkpoint: whatever the tables hold is not trustworthy, start from empty (their
      // versions too, dropped first so that clearing the tables records no history).
      if (!row)
        for (const t of def.tables) {
          uninstallTimeTravel(db, t);
          db.exec(`DELETE FROM ${t}`);
        }
      if (timeTravel) for (const t of def.tables) installTimeTravel(db, t);
      this.checkpoints.set(def.name, row?.position ?? 0);
      return { name: def.name, handler };
    });
    this.eventPosition.idle(this.position);
  }

  /** Prepares what the runner itself keeps on the read models' connection. */
  private bind(db: SqliteDatabase): void {
    db.exec(CHECKPOINTS);
    this.eventPosition = new EventPosition(db);
    this.saveCheckpoint = db.prepare(
      'INSERT INTO projection_checkpoints (name, position, tables) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position, tables = excluded.tables',
    );
  }

  /** The position up to which every projection is up to date. */
  get position(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const v of this.checkpoints.values()) min = Math.min(min, v);
    return min === Number.POSITIVE_INFINITY ? 0 : min;
  }

  /** Why projecting stopped, if it did; catchUp() resolves either way. */
  get error(): unknown {
    return this.failure;
  }

  start(): void {
    this.unsubscribe = this.opts.store.onAppended(() => this.schedule());
    this.schedule();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.running;
  }

  /** Resolves once every projection has applied the event at `position`. */
  waitFor(position: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.position >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ position, resolve, reject });
      this.schedule();
    });
  }

  /** Applies everything in the log now; used at start-up and by tests. */
  async catchUp(): Promise<void> {
    this.schedule();
    while (this.running) await this.running;
  }

  /**
   * Stops applying events until the returned `resume` is called; resolves once the batch in
   * flight has committed. Appends go on; waiters simply wait a little longer.
   */
  async pause(): Promise<() => void> {
    this.paused = true;
    while (this.running) await this.running;
    return () => {
      this.paused = false;
      this.schedule();
    };
  }

  /**
   * Moves the runner onto `db`, the connection to a read-models file a replay's swap put in
   * place of the one it had: re-reads the checkpoints and re-opens every projection. Only while
   * paused: a batch in flight would apply events to handlers about to be discarded.
   */
  reload(db: SqliteDatabase): void {
    if (!this.paused || this.running) throw new Error('reload() needs a paused runner');
    if (db !== this.db) {
      this.db = db;
      this.bind(db);
    }
    const stored = new Map(
      db
        .prepare<[], { name: string; position: number }>('SELECT name, position FROM projection_checkpoints')
        .all()
        .map((r) => [r.name, r.position]),
    );
    this.projections = this.opts.projections.map((def) => {
      this.checkpoints.set(def.name, stored.get(def.name) ?? 0);
      const handler = def.open(db);
      if (this.opts.timeTravel ?? true) for (const t of def.tables) installTimeTravel(db, t);
      return { name: def.name, handler };
    });
    this.eventPosition.idle(this.position);
  }

  private schedule(): void {
    if (this.paused) {
      this.again = true;
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((e) => {
        this.failure = e;
        this.opts.onError?.(e);
        for (const w of this.waiters.splice(0)) w.reject(e);
      })
      .finally(() => {
        this.running = null;
        if (this.again && !this.failure) {
          this.again = false;
          this.schedule();
        }
      });
  }

  private async drain(): Promise<void> {
    // A reload can move the checkpoints past positions someone waits for.
    this.releaseWaiters();
    while (!this.paused) {
      this.again = false;
      const from = this.position;
      const events = await this.opts.store.readAll({ after: from, limit: this.batchSize });
      if (events.length === 0) break;
      this.applyBatch(events);
      this.releaseWaiters();
      // A long catch-up beside a live server must leave room for its requests.
      if (this.opts.yieldBetweenBatches) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private applyBatch(events: RecordedEvent[]): void {
    const started = performance.now();
    const last = events[events.length - 1]!.position;
    const { db } = this;
    // Read models are rebuildable from the log, and a commit lost to a power cut is re-applied
    // from the checkpoint committed with it: they need no fsync of their own.
    // Only ever lowered: a scratch database (a replay's shadow) already runs with OFF.
    const previous = db.pragma('synchronous', { simple: true }) as number;
    if (previous > SYNCHRONOUS_NORMAL) db.pragma('synchronous = NORMAL');
    try {
      this.applyInTransaction(events, last);
    } finally {
      if (previous > SYNCHRONOUS_NORMAL) db.pragma(`synchronous = ${previous}`);
    }
    for (const p of this.projections) this.checkpoints.set(p.name, last);
    this.opts.onBatch?.({ from: events[0]!.position, to: last, events: events.length, ms: performance.now() - started });
  }

  private applyInTransaction(events: RecordedEvent[], last: number): void {
    const at = this.eventPosition;
    try {
      this.db.transaction(() => {
        for (const p of this.projections) {
          const done = this.checkpoints.get(p.name)!;
          for (const e of events)
            if (e.position > done) {
              at.applying(e.position);
              p.handler.apply(e);
            }
          at.flushingBatch();
          p.handler.flush?.();
          this.saveCheckpoint.run(p.name, last, this.tablesOf.get(p.name)!);
        }
      })();
      at.idle(last);
    } catch (e) {
      at.idle(this.position);
      // Whatever a handler kept in memory describes writes that were just rolled back.
      for (const p of this.projections) p.handler.discard?.();
      throw e;
    }
  }

  private releaseWaiters(): void {
    const pos = this.position;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.position <= pos) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }
}

/** A projection's own tables and those time travel keeps beside them. */
export function tablesWithHistory(def: ProjectionDefinition): string[] {
  return [...def.tables, ...temporalTablesOf(def.tables)];
}

function sameTables(storedJson: string, expectedJson: string): boolean {
  const a = [...(JSON.parse(storedJson) as string[])].sort();
  const b = [...(JSON.parse(expectedJson) as string[])].sort();
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
