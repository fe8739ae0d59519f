import { isChronicleError, ValidationFailed } from '@chronicle/domain';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../platform.js';
import { invalidParameter, optionalString, optionalStringList, viewTypeOf } from '../wire.js';
import { MAX_RESULTS_LIMIT, maxResultsOf } from './paging.js';
import { endpoint } from './routes.js';
import { runJson } from './views.js';

/**
 * Run search through Chronicle's read model: the filter language is MLflow's plus OR, NOT
 * and parentheses, compiled to one SQL query; params, tags and metrics of the page's runs
 * come in three more, whatever the page size.
 */
export function registerSearchEndpoints(app: FastifyInstance, p: Platform): void {
  const search = async (m: Record<string, unknown>) => {
    const experimentIds = optionalStringList(m, 'experiment_ids');
    const maxResults = maxResultsOf(m);
    const filter = optionalString(m, 'filter') ?? '';
    const orderBy = optionalStringList(m, 'order_by');
    const lifecycle = viewTypeOf(m, 'run_view_type');
    // MLflow searches the experiments it is given: none, no runs (Chronicle's "all" is not asked for).
    if (experimentIds.length === 0) return {};
    let page;
    try {
      page = p.read.runs.search({
        experimentIds,
        filter,
        orderBy,
        lifecycle,
        first: maxResults,
        after: optionalString(m, 'page_token') || null,
        maxPage: MAX_RESULTS_LIMIT,
      });
    } catch (e) {
      if (e instanceof ValidationFailed && e.details['field'] === 'after')
        throw invalidParameter(`Invalid page token '${String(m['page_token'])}': pass the next_page_token of the previous page`);
      if (isChronicleError(e)) throw invalidParameter(e.message);
      throw e;
    }
    const ids = page.nodes.map((r) => r.runId);
    const details = p.read.runs.details(ids);
    const datasets = p.read.runDatasets.ofRuns(ids);
    const models = p.read.runDatasets.modelInputsOfRuns(ids);
    return {
      runs: page.nodes.map((r) =>
        runJson(r, { ...details.get(r.runId)!, datasets: datasets.get(r.runId) ?? [], models: models.get(r.runId) ?? [] }),
      ),
      ...(page.hasNextPage && page.endCursor ? { next_page_token: page.endCursor } : {}),
    };
  };
  endpoint(app, 'POST', '/runs/search', search);
  endpoint(app, 'GET', '/runs/search', search);
}
