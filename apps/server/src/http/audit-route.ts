import { Readable } from 'node:stream';
import { requireRole, ValidationFailed } from '@chronicle/domain';
import type { AuditEntryView, AuditLogFilter } from '@chronicle/projections';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';

const FORMATS = {
  jsonl: { contentType: 'application/x-ndjson; charset=utf-8', extension: 'jsonl' },
  csv: { contentType: 'text/csv; charset=utf-8', extension: 'csv' },
} as const;
type Format = keyof typeof FORMATS;

const CSV_COLUMNS = ['position', 'recorded_at', 'actor', 'entity_kind', 'entity_id', 'stream', 'type', 'correlation_id', 'causation_id', 'summary'];

interface ExportQuery {
  format?: string;
  actor?: string;
  entityKind?: string;
  type?: string | string[];
  from?: string;
  to?: string;
}

/** RFC 4180: quote a field holding a comma, a quote or a line break, and double its quotes. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvLine(e: AuditEntryView): string {
  const cells = [
    String(e.position),
    new Date(e.recordedAt).toISOString(),
    e.actor,
    e.entityKind,
    e.entityId,
    e.stream,
    e.type,
    e.correlationId,
    e.causationId ?? '',
    JSON.stringify(e.summary),
  ];
  return `${cells.map(csvField).join(',')}\r\n`;
}

/** Milliseconds since the epoch, or an ISO 8601 date. */
function parseTime(field: string, raw: string | undefined): number | null {
  if (raw === undefined || raw === '') return null;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (Number.isNaN(ms)) throw new ValidationFailed(`${field} must be milliseconds since the epoch or an ISO 8601 date`, { field });
  return ms;
}

function filterOf(q: ExportQuery): AuditLogFilter {
  const types = (Array.isArray(q.type) ? q.type : q.type ? [q.type] : []).flatMap((t) => t.split(',')).filter(Boolean);
  return {
    actor: q.actor || null,
    entityKind: q.entityKind || null,
    eventTypes: types,
    from: parseTime('from', q.from),
    to: parseTime('to', q.to),
  };
}

/** The audit log as a file: streamed in batches, so an export of any size holds one batch in memory. */
export function registerAuditExport(app: FastifyInstance, platform: Platform): void {
  app.get<{ Querystring: ExportQuery }>('/api/v1/audit/log', async (request, reply) => {
    requireRole(request.principal, 'admin', 'exporting the audit log');
    const format = (request.query.format ?? 'jsonl') as Format;
    if (!(format in FORMATS)) throw new ValidationFailed('format must be jsonl or csv', { field: 'format' });
    const filter = filterOf(request.query);
    const batches = platform.read.audit.scan(filter);
    const body = Readable.from(
      (function* () {
        if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
        for (const batch of batches) yield batch.map((e) => (format === 'csv' ? csvLine(e) : `${JSON.stringify(e)}\n`)).join('');
      })(),
    );
    return reply
      .type(FORMATS[format].contentType)
      .header('content-disposition', `attachment; filename="chronicle-audit-log.${FORMATS[format].extension}"`)
      .send(body);
  });
}
