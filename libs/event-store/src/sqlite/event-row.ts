import type { RecordedEvent } from '@chronicle/domain';

/** The events table's columns, in the order a row read as an array holds them. */
export const EVENT_COLUMNS = 'position, id, stream, revision, type, schema_version, recorded_at, actor, correlation_id, causation_id, data, hash';

/** Where the row holds the event's type, schema version and data (its JSON text). */
export const EVENT_TYPE = 4;
export const EVENT_SCHEMA_VERSION = 5;
export const EVENT_DATA = 10;
/** Columns in a row. */
export const EVENT_WIDTH = 12;

/**
 * The event whose row starts at `at` of `r` (one row read as an array, or rows laid end to
 * end), with its data decoded by the caller. Arrays, not objects: a replay reads every row of
 * the log, and arrays are cheaper to make.
 */
export function eventFromRow(r: readonly unknown[], at: number, data: unknown): RecordedEvent {
  return {
    id: r[at + 1] as string,
    type: r[at + EVENT_TYPE] as string,
    schemaVersion: r[at + EVENT_SCHEMA_VERSION] as number,
    stream: r[at + 2] as string,
    revision: r[at + 3] as number,
    position: r[at] as number,
    recordedAt: r[at + 6] as number,
    actor: r[at + 7] as string,
    correlationId: r[at + 8] as string,
    causationId: r[at + 9] as string | null,
    data,
    hash: r[at + 11] as string,
  };
}
