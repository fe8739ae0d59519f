export * from './report.js';
export { buildAuditReport, type ReportFacts } from './build-report.js';
export { loadAuditReport, type LoadReportOptions } from './load-report.js';
export { renderAuditReportMarkdown } from './render-report.js';
