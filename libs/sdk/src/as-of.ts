/**
 * A point in the past of the event log, for read calls' `asOf`: a global position (a whole
 * number), an ISO 8601 date or time string, or a Date. The server answers from the read models
 * as they stood right after the last event at or before it; beyond the head it refuses
 * (BAD_USER_INPUT).
 */
export type AsOf = number | string | Date;

export interface ReadOptions {
  /** Answer from the state at this point of the log instead of now. */
  asOf?: AsOf;
}

/** The value of a GraphQL `AsOf` variable; null asks about now. */
export const asOfVariable = (asOf: AsOf | undefined | null): number | string | null =>
  asOf === undefined || asOf === null ? null : asOf instanceof Date ? asOf.toISOString() : asOf;
