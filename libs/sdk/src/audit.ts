import type { Transport } from './transport.js';
import type { PageInfo } from './types.js';

export interface AuditEntry {
  position: number;
  stream: string;
  entityKind: string;
  entityId: string;
  type: string;
  actor: string;
  recordedAt: number;
  correlationId: string;
  causationId: string | null;
  summary: unknown;
}

export interface AuditEntryPage {
  nodes: AuditEntry[];
  pageInfo: PageInfo;
}

export interface AuditLogFilter {
  actor?: string;
  entityKind?: string;
  eventTypes?: string[];
  /** Milliseconds since the epoch, inclusive. */
  from?: number;
  /** Milliseconds since the epoch, exclusive. */
  to?: number;
}

export interface IntegrityBreak {
  kind: string;
  stream: string | null;
  revision: number | null;
  position: number | null;
  reason: string;
}

export interface IntegrityReport {
  ok: boolean;
  headPosition: number;
  events: number;
  streams: number;
  bytesHashed: number;
  ms: number;
  sealsVerified: number;
  lastSealedPosition: number | null;
  firstBreak: IntegrityBreak | null;
  breaks: IntegrityBreak[];
  breaksTruncated: boolean;
}

export type AuditExportFormat = 'jsonl' | 'csv';

export interface AuditApi {
  /** Every event of one entity, oldest first: `run:<id>`, `experiment:<id>`, `user:<name>`, or a stream name. */
  history(entity: string, page?: { first?: number; after?: string }): Promise<AuditEntryPage>;
  /** The filtered event log, oldest first (admins only). */
  log(filter?: AuditLogFilter, page?: { first?: number; after?: string }): Promise<AuditEntryPage>;
  /** The filtered event log as a JSONL or CSV file, streamed (admins only). */
  export(filter?: AuditLogFilter, format?: AuditExportFormat): Promise<ReadableStream<Uint8Array>>;
  /** Recomputes every hash chain on the server and checks every seal (admins only). */
  verify(): Promise<IntegrityReport>;
}

const ENTRY_FIELDS = 'position stream entityKind entityId type actor recordedAt correlationId causationId summary';
const BREAK_FIELDS = 'kind stream revision position reason';

export function auditApi(t: Transport): AuditApi {
  return {
    history: async (entity, page = {}) =>
      (
        await t.graphql<{ history: AuditEntryPage }>(
          `query($entity: String!, $first: Int, $after: String) {
            history(entity: $entity, first: $first, after: $after) { nodes { ${ENTRY_FIELDS} } pageInfo { endCursor hasNextPage } }
          }`,
          { entity, first: page.first ?? 50, after: page.after ?? null },
          { retry: true },
        )
      ).history,
    log: async (filter = {}, page = {}) =>
      (
        await t.graphql<{ auditLog: AuditEntryPage }>(
          `query($actor: String, $entityKind: String, $eventTypes: [String!], $from: Float, $to: Float, $first: Int, $after: String) {
            auditLog(actor: $actor, entityKind: $entityKind, eventTypes: $eventTypes, from: $from, to: $to, first: $first, after: $after) {
              nodes { ${ENTRY_FIELDS} } pageInfo { endCursor hasNextPage }
            }
          }`,
          { ...filter, first: page.first ?? 50, after: page.after ?? null },
          { retry: true },
        )
      ).auditLog,
    async export(filter = {}, format = 'jsonl') {
      const q = new URLSearchParams({ format });
      if (filter.actor) q.set('actor', filter.actor);
      if (filter.entityKind) q.set('entityKind', filter.entityKind);
      if (filter.eventTypes?.length) q.set('type', filter.eventTypes.join(','));
      if (filter.from !== undefined) q.set('from', String(filter.from));
      if (filter.to !== undefined) q.set('to', String(filter.to));
      return (await t.download(`/api/v1/audit/log?${q}`)).body;
    },
    verify: async () =>
      (
        await t.graphql<{ verifyIntegrity: IntegrityReport }>(
          `{ verifyIntegrity { ok headPosition events streams bytesHashed ms sealsVerified lastSealedPosition breaksTruncated
              firstBreak { ${BREAK_FIELDS} } breaks { ${BREAK_FIELDS} } } }`,
          {},
          { retry: true },
        )
      ).verifyIntegrity,
  };
}
