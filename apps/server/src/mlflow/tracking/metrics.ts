import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../platform.js';
import { encodeDouble, invalidParameter, MlflowError, optionalInt64, optionalString, optionalStringList, requiredString, runIdOf } from '../wire.js';
import { maxResultsOf } from './paging.js';
import { endpoint } from './routes.js';
import { metricJson } from './views.js';

// MLflow's limits for the bulk-interval endpoint (the UI's charts).
const MAX_RUNS_PER_BULK_REQUEST = 100;
const MAX_BULK_RESULTS_PER_RUN = 2500;
const DEFAULT_BULK_RESULTS_PER_RUN = 320;

/** Up to `max` indices of `n`, evenly spread, always keeping the first and the last. */
export function spreadIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max === 1) return [n - 1];
  const out: number[] = [];
  for (let i = 0; i < max; i++) {
    const idx = Math.round((i * (n - 1)) / (max - 1));
    if (out[out.length - 1] !== idx) out.push(idx);
  }
  return out;
}

export function registerMetricEndpoints(app: FastifyInstance, p: Platform): void {
  const existingRun = (runId: string) => {
    if (!p.read.runs.get(runId)) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
  };

  endpoint(app, 'GET', '/metrics/get-history', async (m) => {
    const runId = runIdOf(m);
    const key = requiredString(m, 'metric_key');
    existingRun(runId);
    const asked = optionalInt64(m, 'max_results');
    // Without max_results MLflow answers every point; with it, pages of the series.
    const first = asked === undefined ? 100_000 : maxResultsOf(m, 'max_results', { limit: 100_000 });
    let after = optionalString(m, 'page_token') || null;
    const metrics: ReturnType<typeof metricJson>[] = [];
    for (;;) {
      let page;
      try {
        page = p.read.metrics.history(runId, key, { first, after });
      } catch {
        throw invalidParameter(`Invalid page token '${after}': pass the next_page_token of the previous page`);
      }
      for (const pt of page.nodes) metrics.push(metricJson({ key, ...pt }));
      if (asked !== undefined) return { metrics, ...(page.hasNextPage && page.endCursor ? { next_page_token: page.endCursor } : {}) };
      if (!page.hasNextPage || !page.endCursor) return { metrics };
      after = page.endCursor;
    }
  });

  endpoint(app, 'GET', '/metrics/get-history-bulk-interval', async (m) => {
    const runIds = optionalStringList(m, 'run_ids');
    if (runIds.length === 0) throw invalidParameter("Missing value for required parameter 'run_ids'.");
    if (runIds.length > MAX_RUNS_PER_BULK_REQUEST)
      throw invalidParameter(`GetMetricHistoryBulkInterval request must specify at most ${MAX_RUNS_PER_BULK_REQUEST} run_ids. Received ${runIds.length} run_ids.`);
    const key = requiredString(m, 'metric_key');
    const start = optionalInt64(m, 'start_step');
    const end = optionalInt64(m, 'end_step');
    if ((start === undefined) !== (end === undefined)) throw invalidParameter('start_step and end_step must both be given, or neither');
    if (start !== undefined && end !== undefined && start > end) throw invalidParameter('end_step must be greater than or equal to start_step');
    const max = maxResultsOf(m, 'max_results', { fallback: DEFAULT_BULK_RESULTS_PER_RUN, limit: MAX_BULK_RESULTS_PER_RUN });
    const metrics = [];
    for (const runId of runIds) {
      existingRun(runId);
      const points = p.read.metrics
        .history(runId, key, { first: 100_000 })
        .nodes.filter((pt) => start === undefined || (pt.step >= start && pt.step <= end!));
      for (const i of spreadIndices(points.length, max)) {
        const pt = points[i]!;
        metrics.push({ key, value: encodeDouble(pt.value), timestamp: pt.timestamp, step: pt.step, run_id: runId });
      }
    }
    return { metrics };
  });
}
