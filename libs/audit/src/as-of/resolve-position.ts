import { ValidationFailed } from '@chronicle/domain';
import type { EventStore } from '@chronicle/event-store';

/** A point in the log's past: a global position, or an instant (ms since the epoch). */
export type AsOf = { position: number } | { time: number };

export interface ResolvedAsOf {
  /** The last position the state includes (0: before the first event). */
  position: number;
  /** When that event was recorded; null for position 0. */
  recordedAt: number | null;
  head: number;
}

/**
 * Parses what people type: a whole number is a global position, anything else an ISO 8601
 * date or time (`2026-11-27`, `2026-11-27T14:05:00Z`).
 */
export function parseAsOf(raw: string): AsOf {
  const s = raw.trim();
  if (/^\d+$/.test(s)) {
    const position = Number(s);
    if (!Number.isSafeInteger(position)) throw new ValidationFailed(`as-of position ${s} is too large`, { field: 'asOf' });
    return { position };
  }
  const time = Date.parse(s);
  if (s === '' || Number.isNaN(time))
    throw new ValidationFailed(`"${raw}" is neither a log position (a whole number) nor an ISO 8601 date or time`, { field: 'asOf' });
  return { time };
}

async function recordedAtOf(store: EventStore, position: number): Promise<{ position: number; recordedAt: number } | null> {
  const [e] = await store.readAllRaw({ after: position - 1, limit: 1 });
  return e ? { position: e.position, recordedAt: e.recordedAt } : null;
}

/**
 * The position a past state ends at. A time maps to the last event recorded at or before it,
 * found by binary search over the log (positions and record times grow together), so a
 * question about a long history costs a few dozen single-row reads, not a scan.
 */
export async function resolveAsOf(store: EventStore, asOf: AsOf | null): Promise<ResolvedAsOf> {
  const head = await store.headPosition();
  const at = async (position: number): Promise<ResolvedAsOf> => ({
    position,
    recordedAt: position === 0 ? null : ((await recordedAtOf(store, position))?.recordedAt ?? null),
    head,
  });
  if (asOf === null) return at(head);
  if ('position' in asOf) {
    const p = asOf.position;
    if (!Number.isSafeInteger(p) || p < 0) throw new ValidationFailed('an as-of position is a whole number, 0 or more', { field: 'asOf' });
    if (p > head) throw new ValidationFailed(`as-of position ${p} is beyond the head of the log (${head})`, { field: 'asOf', head });
    return at(p);
  }
  if (!Number.isFinite(asOf.time)) throw new ValidationFailed('an as-of time is milliseconds since the epoch', { field: 'asOf' });
  // Invariant: every event up to `lo` was recorded at or before the time; none after `hi` was.
  let lo = 0;
  let hi = head;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    const e = await recordedAtOf(store, mid);
    if (e && e.recordedAt <= asOf.time) lo = mid;
    else hi = mid - 1;
  }
  return at(lo);
}

/** The events of one stream recorded up to `position`, oldest first. */
export async function readStreamUntil(store: EventStore, stream: string, position: number) {
  const { events } = await store.readStream(stream);
  let end = events.length;
  while (end > 0 && events[end - 1]!.position > position) end--;
  return events.slice(0, end);
}
