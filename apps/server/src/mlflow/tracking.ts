import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';
import { registerExperimentEndpoints } from './tracking/experiments.js';
import { registerMetricEndpoints } from './tracking/metrics.js';
import { registerRunEndpoints } from './tracking/runs.js';
import { registerSearchEndpoints } from './tracking/search.js';

/** MLflow's tracking API: experiments, runs, their data, search and metric history. */
export function registerMlflowTracking(app: FastifyInstance, platform: Platform): void {
  void app.register(async (scope) => {
    // Plain JSON.parse: handlers read named fields into fresh values and never merge request
    // objects, so the prototype-poisoning scan of the default parser would buy nothing here,
    // while log-batch bodies are the hot path of MLflow ingestion.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      if (body === '') return done(null, {});
      try {
        done(null, JSON.parse(body as string));
      } catch (e) {
        done(Object.assign(new Error(`The request body is not valid JSON: ${(e as Error).message}`), { statusCode: 400 }), undefined);
      }
    });
    registerExperimentEndpoints(scope, platform);
    registerRunEndpoints(scope, platform);
    registerSearchEndpoints(scope, platform);
    registerMetricEndpoints(scope, platform);
  });
}
