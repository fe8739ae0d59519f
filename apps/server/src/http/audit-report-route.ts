import { parseAsOf, renderAuditReportMarkdown } from '@chronicle/audit';
import { requireRole, ValidationFailed } from '@chronicle/domain';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';

interface ReportQuery {
  format?: string;
  asOf?: string;
  verify?: string;
}

const FORMATS = { md: 'text/markdown; charset=utf-8', json: 'application/json; charset=utf-8' } as const;

function flag(field: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ValidationFailed(`${field} must be true or false`, { field });
}

/**
 * One model version's audit report as a file: Markdown for people, JSON for tools
 * (schema chronicle.audit-report/v1, documented in docs/audit.md). Same rules as the
 * GraphQL `auditReport` query: any reader may ask; verifying integrity needs a maintainer.
 */
export function registerAuditReport(app: FastifyInstance, platform: Platform): void {
  app.get<{ Params: { name: string; version: string }; Querystring: ReportQuery }>(
    '/api/v1/models/:name/versions/:version/audit-report',
    async (request, reply) => {
      requireRole(request.principal, 'viewer', 'reading an audit report');
      const { name } = request.params;
      if (!/^[1-9]\d{0,9}$/.test(request.params.version)) throw new ValidationFailed('version must be a whole number, 1 or more', { field: 'version' });
      const format = request.query.format ?? 'md';
      if (format !== 'md' && format !== 'json') throw new ValidationFailed('format must be md or json', { field: 'format' });
      const verify = flag('verify', request.query.verify, true);
      if (verify) requireRole(request.principal, 'maintainer', 'verifying integrity for an audit report (add verify=false to skip it)');
      const asOf = request.query.asOf ? parseAsOf(request.query.asOf) : null;
      const report = await platform.audit.report(name, Number(request.params.version), { asOf, verify });
      const file = `${name}-v${report.version.version}-audit.${format}`.replace(/[^\w.@-]/g, '_');
      return reply
        .type(FORMATS[format])
        .header('content-disposition', `inline; filename="${file}"`)
        .send(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderAuditReportMarkdown(report));
    },
  );
}
