import type { RecordedEvent } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';

/**
 * A read model: the tables it owns, and how each event changes them. `apply` runs inside
 * the runner's transaction, so a batch of events and its checkpoint commit together.
 */
export interface ProjectionDefinition {
  /** Carries a version (`runs.v1`): bump it and the runner drops the tables and rebuilds from position 0. */
  readonly name: string;
  readonly tables: readonly string[];
  /** Creates the tables if missing and prepares statements. */
  open(db: SqliteDatabase): ProjectionHandler;
}

export interface ProjectionHandler {
  apply(event: RecordedEvent): void;
  /**
   * Writes what `apply` kept in memory during the batch; called at the end of every batch, in
   * the batch's transaction, before the checkpoint. Must leave no state behind for the next batch.
   */
  flush?(): void;
  /**
   * Drops what `apply` kept in memory without writing it: the batch's transaction rolled back,
   * so that state is ahead of the database.
   */
  discard?(): void;
}
