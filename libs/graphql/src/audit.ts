import { requireRole, ValidationFailed, type Principal } from '@chronicle/domain';
import { streamOfEntity } from '@chronicle/projections';
import { floatArg, intArg, list, nonNull, objectType, queryField, stringArg } from 'nexus';
import { asOfArg } from './as-of.js';

export const AuditEntry = objectType({
  name: 'AuditEntry',
  description: 'One event of the log, as the audit log keeps it: who did what to which entity, when, and in which request.',
  definition(t) {
    t.nonNull.int('position', { description: 'Global position in the event log.' });
    t.nonNull.string('stream');
    t.nonNull.string('entityKind', { description: '`run`, `experiment`, `user`, `token`, `experiment-name`, or the stream prefix.' });
    t.nonNull.string('entityId');
    t.nonNull.string('type');
    t.nonNull.string('actor', { description: '`user:<name>` or `system:<component>`.' });
    t.nonNull.float('recordedAt', { description: 'Milliseconds since the epoch.' });
    t.nonNull.string('correlationId', { description: 'The request that made the change; events of one request share it.' });
    t.string('causationId');
    t.json('summary', { description: "The event's data; metric batches and large events are summarised (keys and point counts)." });
  },
});

export const AuditEntryConnection = objectType({
  name: 'AuditEntryConnection',
  definition(t) {
    t.nonNull.list.nonNull.field('nodes', { type: 'AuditEntry' });
    t.nonNull.field('pageInfo', { type: 'PageInfo', resolve: (p) => ({ endCursor: p.endCursor, hasNextPage: p.hasNextPage }) });
  },
});

export const IntegrityBreak = objectType({
  name: 'IntegrityBreak',
  definition(t) {
    t.nonNull.string('kind', { description: 'e.g. `hash_mismatch`, `revision_gap`, `missing_tail`, `seal_mismatch`.' });
    t.string('stream');
    t.int('revision', { description: 'The first revision of the stream at which the chain does not hold.' });
    t.int('position');
    t.nonNull.string('reason');
  },
});

export const IntegrityReport = objectType({
  name: 'IntegrityReport',
  description: 'The outcome of recomputing every hash chain of the log and checking every seal.',
  definition(t) {
    t.nonNull.boolean('ok');
    t.nonNull.int('headPosition', { description: 'The log was verified up to here.' });
    t.nonNull.int('events');
    t.nonNull.int('streams');
    t.nonNull.float('bytesHashed');
    t.nonNull.float('ms');
    t.nonNull.int('sealsVerified', { resolve: (r) => r.seals.verified });
    t.int('lastSealedPosition', { resolve: (r) => r.seals.lastSealedPosition });
    t.field('firstBreak', { type: 'IntegrityBreak' });
    t.nonNull.list.nonNull.field('breaks', { type: 'IntegrityBreak' });
    t.nonNull.boolean('breaksTruncated');
  },
});

// Users and tokens are an admin's business, as in `users` and `tokens`.
const ADMIN_ONLY_KINDS = new Set(['user', 'token']);

function requireHistoryAccess(principal: Principal, stream: string): void {
  const kind = stream.slice(0, stream.indexOf('-'));
  requireRole(principal, ADMIN_ONLY_KINDS.has(kind) ? 'admin' : 'viewer', `reading the history of ${stream}`);
}

export const historyQuery = queryField('history', {
  type: nonNull('AuditEntryConnection'),
  description: 'Every event of one entity, oldest first: `run:<id>`, `experiment:<id>`, `user:<name>`, `token:<id>`, or a stream name.',
  args: { entity: nonNull(stringArg()), first: intArg({ default: 50 }), after: stringArg(), asOf: asOfArg() },
  resolve(_r, { entity, first, after }, ctx) {
    if (entity.trim() === '') throw new ValidationFailed('entity must name an entity, e.g. run:<id>', { field: 'entity' });
    const stream = streamOfEntity(entity.trim());
    requireHistoryAccess(ctx.principal, stream);
    return ctx.read.audit.history(stream, { first, after });
  },
});

export const auditLogQuery = queryField('auditLog', {
  type: nonNull('AuditEntryConnection'),
  description: 'The whole event log, oldest first, filtered (admins only). `from` is inclusive and `to` exclusive, in ms since the epoch.',
  args: {
    actor: stringArg({ description: 'e.g. `user:ada`.' }),
    entityKind: stringArg(),
    eventTypes: list(nonNull(stringArg())),
    from: floatArg(),
    to: floatArg(),
    first: intArg({ default: 50 }),
    after: stringArg(),
    asOf: asOfArg(),
  },
  resolve(_r, { first, after, ...filter }, ctx) {
    requireRole(ctx.principal, 'admin', 'reading the audit log');
    return ctx.read.audit.log(filter, { first, after });
  },
});

export const verifyIntegrityQuery = queryField('verifyIntegrity', {
  type: nonNull('IntegrityReport'),
  description: 'Recomputes the hash chain of every stream from the stored bytes and checks every seal (admins only; reads the whole log).',
  async resolve(_r, _a, ctx) {
    requireRole(ctx.principal, 'admin', 'verifying the integrity of the log');
    return ctx.audit.verify();
  },
});
