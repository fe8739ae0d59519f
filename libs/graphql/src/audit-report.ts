import { renderAuditReportMarkdown } from '@chronicle/audit';
import { requireRole } from '@chronicle/domain';
import { arg, booleanArg, enumType, intArg, nonNull, objectType, queryField, stringArg } from 'nexus';
import { asOfArg, checkedAsOf } from './as-of.js';

export const AuditReportFormat = enumType({ name: 'AuditReportFormat', members: ['MARKDOWN', 'JSON'] });

export const AuditReport = objectType({
  name: 'AuditReport',
  description: 'The audit report of one model version: what trained it, on which data, who approved and promoted it, where it was deployed.',
  definition(t) {
    t.nonNull.string('model', { resolve: (r) => r.report.model.name });
    t.nonNull.int('version', { resolve: (r) => r.report.version.version });
    t.nonNull.field('format', { type: 'AuditReportFormat' });
    t.nonNull.string('contentType');
    t.nonNull.string('content', { description: 'The report as Markdown, or as pretty-printed JSON (schema chronicle.audit-report/v1).' });
    t.boolean('integrityOk', { description: 'Whether every stream the report relies on verifies; null when verification was skipped.', resolve: (r) => r.report.integrity.ok });
    t.nonNull.json('report', { description: 'The JSON form as an object.', resolve: (r) => r.report });
  },
});

export const auditReportQuery = queryField('auditReport', {
  type: nonNull('AuditReport'),
  description:
    'The audit report of one model version, read from the event log. Verifying integrity reads the whole log and needs the maintainer role; pass verify: false to skip it.',
  args: {
    model: nonNull(stringArg()),
    version: nonNull(intArg()),
    format: arg({ type: 'AuditReportFormat', default: 'MARKDOWN' }),
    asOf: asOfArg(),
    verify: booleanArg({ default: true }),
  },
  async resolve(_r, { model, version, format, asOf, verify }, ctx) {
    requireRole(ctx.principal, 'viewer', 'reading an audit report');
    const check = verify ?? true;
    if (check) requireRole(ctx.principal, 'maintainer', 'verifying integrity for an audit report (pass verify: false to skip it)');
    const report = await ctx.audit.report(model, version, { asOf: asOf === null || asOf === undefined ? null : checkedAsOf(asOf), verify: check });
    const json = (format ?? 'MARKDOWN') === 'JSON';
    return {
      report,
      format: json ? ('JSON' as const) : ('MARKDOWN' as const),
      contentType: json ? 'application/json' : 'text/markdown; charset=utf-8',
      content: json ? `${JSON.stringify(report, null, 2)}\n` : renderAuditReportMarkdown(report),
    };
  },
});
