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

/**
 * A reproduction recipe in its stable JSON form (schema `chronicle.reproduction-recipe/v1`,
 * documented in docs/audit.md). Typed here for what clients act on; the rest is kept as sent.
 */
export interface RecipeDocument {
  schema: string;
  runId: string;
  runName: string;
  experimentId: string;
  status: string;
  asOf: { position: number; recordedAt: number | null; head: number; latest: boolean };
  reproductionOf: string | null;
  code: {
    repository: string | null;
    commit: string | null;
    branch: string | null;
    dirty: boolean | null;
    diff: string | null;
    diffSha256: string | null;
    source: string | null;
    entryPoint: string | null;
    workingDir: string;
  };
  command: string[] | null;
  commandLine: string | null;
  params: { key: string; value: string }[];
  seed: { key: string; value: string; from: 'param' | 'tag' } | null;
  datasets: {
    dataset: string;
    version: number;
    versionId: string;
    role: string;
    manifestSha256: string | null;
    deprecated: boolean;
    checkoutDir: string;
    checkoutCommand: string;
  }[];
  environment: { runtimes: { name: string; version: string }[]; lockfiles: { path: string; sha256: string }[]; recorded: Record<string, unknown> };
  /** Values are numbers, or "NaN", "Infinity", "-Infinity". */
  expectedMetrics: { key: string; value: number | string; step: number; timestamp: number }[];
  missing: string[];
  steps: string[];
  [more: string]: unknown;
}

export interface ReproductionRecipeResult {
  recipe: RecipeDocument;
  markdown: string;
}

export type AuditReportFormat = 'md' | 'json';

export interface AuditReportDocument {
  format: AuditReportFormat;
  contentType: string;
  /** The report as Markdown, or as pretty-printed JSON (schema `chronicle.audit-report/v1`). */
  content: string;
  /** null when verification was skipped. */
  integrityOk: boolean | null;
  /** The JSON form as an object. */
  report: Record<string, unknown>;
}

export interface AuditApi {
  /** Every event of one entity, oldest first: `run:<id>`, `experiment:<id>`, `user:<name>`, or a stream name. */
  history(entity: string, page?: { first?: number; after?: string }): Promise<AuditEntryPage>;
  /** The filtered event log, oldest first (admins only). */
  log(filter?: AuditLogFilter, page?: { first?: number; after?: string }): Promise<AuditEntryPage>;
  /** The filtered event log as a JSONL or CSV file, streamed (admins only). */
  export(filter?: AuditLogFilter, format?: AuditExportFormat): Promise<ReadableStream<Uint8Array>>;
  /** Recomputes every hash chain on the server and checks every seal (admins only). */
  verify(): Promise<IntegrityReport>;
  /** How to reproduce a run; `asOf` (a global position, or an ISO 8601 time) reads the state at that point. */
  reproductionRecipe(runId: string, opts?: { asOf?: string | number }): Promise<ReproductionRecipeResult>;
  /** One model version's audit report; `verify` (default true) needs the maintainer role. */
  report(model: string, version: number, opts?: { format?: AuditReportFormat; asOf?: string | number; verify?: boolean }): Promise<AuditReportDocument>;
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
    async reproductionRecipe(runId, opts = {}) {
      const data = await t.graphql<{ reproductionRecipe: { document: RecipeDocument; markdown: string } }>(
        'query($r: ID!, $a: AsOf) { reproductionRecipe(runId: $r, asOf: $a) { document markdown } }',
        { r: runId, a: opts.asOf === undefined ? null : String(opts.asOf) },
        { retry: true },
      );
      return { recipe: data.reproductionRecipe.document, markdown: data.reproductionRecipe.markdown };
    },
    async report(model, version, opts = {}) {
      const format = opts.format ?? 'md';
      const data = await t.graphql<{ auditReport: Omit<AuditReportDocument, 'format'> }>(
        `query($m: String!, $v: Int!, $f: AuditReportFormat, $a: AsOf, $verify: Boolean) {
          auditReport(model: $m, version: $v, format: $f, asOf: $a, verify: $verify) { contentType content integrityOk report }
        }`,
        { m: model, v: version, f: format === 'json' ? 'JSON' : 'MARKDOWN', a: opts.asOf === undefined ? null : String(opts.asOf), verify: opts.verify ?? true },
        { retry: true },
      );
      return { format, ...data.auditReport };
    },
  };
}
