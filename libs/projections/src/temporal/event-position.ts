import type { SqliteDatabase } from '@chronicle/event-store';

/** The SQL function the versioning triggers date each change with. */
export const POSITION_FUNCTION = 'chronicle_position';

/**
 * Tells the versioning triggers which event a write belongs to, through a SQL function on the
 * runner's connection. A function costs nothing until a trigger calls it; a one-row table the
 * runner updated per event would cost a write per event (measured: docs/benchmarks.md).
 */
export class EventPosition {
  private current = 0;
  private flushing = false;

  constructor(db: SqliteDatabase) {
    // Deterministic: SQLite evaluates it once per statement, not once per row.
    db.function(POSITION_FUNCTION, { deterministic: true }, () => {
      if (this.flushing)
        throw new Error(
          'a versioned read-model table was written by flush(), where no single event is applying: time travel cannot date that write. ' +
            'Write it in apply(), or give the table a timing in libs/projections/src/temporal/table-timing.ts',
        );
      return this.current;
    });
  }

  /** Writes from now on belong to the event at `position`. */
  applying(position: number): void {
    this.current = position;
    this.flushing = false;
  }

  /** A handler's flush() runs: writes to versioned tables are refused. */
  flushingBatch(): void {
    this.flushing = true;
  }

  /** Between batches; a write here (a repair by hand) is dated at the last applied position. */
  idle(position: number): void {
    this.current = position;
    this.flushing = false;
  }
}
