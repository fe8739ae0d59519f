import type { RecordedEvent, RunMetricsLogged } from '@chronicle/domain';

/** Above this, an event's data is summarised by its keys: the audit log is for reading, not a second copy of the log. */
export const MAX_SUMMARY_CHARS = 4096;

// Never worth showing, even to an auditor: the hash of a live token's secret, and the signing
// secrets of webhooks and deployment targets, which live in their events so the server can
// still sign after a restart.
const REDACTED_KEYS = new Set(['secretHash', 'secret']);

/** What the audit log keeps of an event's data, as JSON text. */
export function summarise(e: RecordedEvent): string {
  if (e.type === 'RunMetricsLogged') {
    // Metric batches can be megabytes: keep which keys and how many points, not the points.
    const d = e.data as RunMetricsLogged['data'];
    return JSON.stringify({ runId: d.runId, series: d.series.map((s) => ({ key: s.key, points: s.steps.length })) });
  }
  // A replacer is called for every value: only worth it when a key to redact can be there.
  const plain = JSON.stringify(e.data) ?? 'null';
  const text = plain.includes('"secret') ? JSON.stringify(e.data, (k, v: unknown) => (REDACTED_KEYS.has(k) ? '[redacted]' : v)) : plain;
  if (text.length <= MAX_SUMMARY_CHARS) return text;
  const keys = e.data !== null && typeof e.data === 'object' ? Object.keys(e.data) : [];
  return JSON.stringify({ truncated: true, chars: text.length, keys });
}
