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
}
