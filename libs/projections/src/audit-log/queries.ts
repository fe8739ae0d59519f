import type { SqliteDatabase } from '@chronicle/event-store';
import { decodePage, encodeCursor, type Page, type PageArgs } from '../pagination.js';

export interface AuditEntryView {
  position: number;
  stream: string;
  entityKind: string;
  entityId: string;
  type: string;
  actor: string;
  recordedAt: number;
  correlationId: string;
  causationId: string | null;
  /** The event's data, or for big events (metric batches) a summary of it. */
  summary: unknown;
}

export interface AuditLogFilter {
  actor?: string | null;
  entityKind?: string | null;
  eventTypes?: readonly string[] | null;
  /** Milliseconds since the epoch, inclusive. */
  from?: number | null;
  /** Milliseconds since the epoch, exclusive. */
  to?: number | null;
}

interface AuditRow {
  position: number;
  stream: string;
  entity_kind: string;
  entity_id: string;
  type: string;
  actor: string;
  recorded_at: number;
  correlation_id: string;
  causation_id: string | null;
  summary: string;
}

const toEntry = (r: AuditRow): AuditEntryView => ({
  position: r.position,
  stream: r.stream,
  entityKind: r.entity_kind,
  entityId: r.entity_id,
  type: r.type,
  actor: r.actor,
  recordedAt: r.recorded_at,
  correlationId: r.correlation_id,
  causationId: r.causation_id,
  summary: JSON.parse(r.summary),
});

// Keyset pages: the cursor carries the last position seen, so pages stay stable while the log grows.
const HISTORY_SCOPE = 'history';
const LOG_SCOPE = 'audit-log';

function pageOf(scope: string, rows: AuditRow[], limit: number): Page<AuditEntryView> {
  const hasNextPage = rows.length > limit;
  const nodes = (hasNextPage ? rows.slice(0, limit) : rows).map(toEntry);
  const last = nodes[nodes.length - 1];
  return { nodes, hasNextPage, endCursor: last ? encodeCursor(scope, last.position) : null };
}

export function auditLogQueries(db: SqliteDatabase) {
  const history = db.prepare<[string, number, number], AuditRow>(
    'SELECT * FROM rm_audit_log WHERE stream = ? AND position > ? ORDER BY position LIMIT ?',
  );
  const statements = new Map<string, ReturnType<typeof db.prepare<unknown[], AuditRow>>>();

  function select(filter: AuditLogFilter, afterPosition: number, limit: number): AuditRow[] {
    const where = ['position > ?'];
    const params: unknown[] = [afterPosition];
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      params.push(...values);
    };
    if (filter.actor) add('actor = ?', filter.actor);
    if (filter.entityKind) add('entity_kind = ?', filter.entityKind);
    if (filter.eventTypes && filter.eventTypes.length > 0) add(`type IN (${filter.eventTypes.map(() => '?').join(',')})`, ...filter.eventTypes);
    if (filter.from !== undefined && filter.from !== null) add('recorded_at >= ?', filter.from);
    if (filter.to !== undefined && filter.to !== null) add('recorded_at < ?', filter.to);
    const sql = `SELECT * FROM rm_audit_log WHERE ${where.join(' AND ')} ORDER BY position LIMIT ?`;
    let stmt = statements.get(sql);
    if (!stmt) statements.set(sql, (stmt = db.prepare<unknown[], AuditRow>(sql)));
    return stmt.all(...params, limit);
  }

  return {
    /** Every event of one stream, oldest first. */
    history(stream: string, page: PageArgs): Page<AuditEntryView> {
      const { offset: after, limit } = decodePage(HISTORY_SCOPE, page);
      return pageOf(HISTORY_SCOPE, history.all(stream, after, limit + 1), limit);
    },
    /** The whole log, filtered, oldest first. */
    log(filter: AuditLogFilter, page: PageArgs): Page<AuditEntryView> {
      const { offset: after, limit } = decodePage(LOG_SCOPE, page);
      return pageOf(LOG_SCOPE, select(filter, after, limit + 1), limit);
    },
    /** The filtered log in batches, for exports of any length without holding the database busy between batches. */
    *scan(filter: AuditLogFilter, batch = 1000): Generator<AuditEntryView[]> {
      for (let after = 0; ; ) {
        const rows = select(filter, after, batch);
        if (rows.length === 0) return;
        yield rows.map(toEntry);
        after = rows[rows.length - 1]!.position;
      }
    },
  };
}
