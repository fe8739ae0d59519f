import { createHash } from 'node:crypto';

/**
 * The MLflow client retries on 429, 5xx and dropped connections, and sends no idempotency key.
 * Metric points are the one write whose repeat would record twice; MLflow itself keeps a
 * (run, key, timestamp, step, value) row once. So their key is derived from that content: a
 * retry, or the same points sent again, is answered without a second append.
 */
export function metricsKey(runId: string, metrics: readonly { key: string; value: number; timestamp?: number | undefined; step?: number | undefined }[]): string {
  // One string, hashed once: a thousand small hash updates cost several times more.
  let text = `${runId}\n`;
  for (const m of metrics)
    // Doubles as text keep NaN and the infinities apart (JSON would turn all three into null).
    text += `${m.key}\u0000${String(m.value)}\u0000${m.timestamp ?? ''}\u0000${m.step ?? ''}\n`;
  return `mlflow-metrics:${createHash('sha256').update(text).digest('hex')}`;
}
