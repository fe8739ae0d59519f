import type { SqliteDatabase } from '@chronicle/event-store';
import { auditLogProjection } from './audit-log/projection.js';
import { auditLogQueries } from './audit-log/queries.js';
import { experimentsProjection } from './experiments/projection.js';
import { experimentQueries } from './experiments/queries.js';
import { metricsProjection } from './metrics/projection.js';
import { metricQueries } from './metrics/queries.js';
import type { ProjectionDefinition } from './runner/projection.js';
import { metricHistoryProjection } from './temporal/metric-history.js';
import { runsProjection } from './runs/projection.js';
import { runQueries } from './runs/queries.js';
import { usersProjection } from './users/projection.js';
import { userQueries } from './users/queries.js';
import { artifactsProjection } from './artifacts/projection.js';
import { artifactQueries } from './artifacts/queries.js';
import { modelsProjection } from './models/projection.js';
import { modelQueries } from './models/queries.js';
import { datasetsProjection } from './datasets/projection.js';
import { datasetQueries } from './datasets/queries.js';
import { lineageProjection } from './lineage/projection.js';
import { lineageQueries } from './lineage/queries.js';
import { deploymentsProjection } from './deployments/projection.js';
import { deploymentQueries } from './deployments/queries.js';
import { webhooksProjection } from './webhooks/projection.js';
import { webhookQueries } from './webhooks/queries.js';
import { promotionProjection } from './promotion/projection.js';
import { promotionQueries } from './promotion/queries.js';
import { loggedModelsProjection } from './logged-models/projection.js';
import { loggedModelQueries } from './logged-models/queries.js';
import { runDatasetsProjection } from './run-datasets/projection.js';
import { runDatasetQueries } from './run-datasets/queries.js';
import { reproductionsProjection } from './reproductions/projection.js';
import { reproductionQueries } from './reproductions/queries.js';

/** Every read model of the platform, in the order the runner applies them. */
export const allProjections: readonly ProjectionDefinition[] = [
  experimentsProjection,
  runsProjection,
  metricsProjection,
  usersProjection,
  auditLogProjection,
  artifactsProjection,
  modelsProjection,
  datasetsProjection,
  lineageProjection,
  deploymentsProjection,
  webhooksProjection,
  promotionProjection,
  loggedModelsProjection,
  runDatasetsProjection,
  reproductionsProjection,
  // Dated metric summaries for time travel (temporal/): rm_run_metrics and rm_metric_series as of any position.
  metricHistoryProjection,
];

/** Query functions over the read models. The tables must exist: open the runner first. */
export function createReadModels(db: SqliteDatabase) {
  // Filters promise case-sensitive LIKE (MLflow's); ILIKE is the case-insensitive one.
  db.pragma('case_sensitive_like = ON');
  return {
    experiments: experimentQueries(db),
    runs: runQueries(db),
    metrics: metricQueries(db),
    users: userQueries(db),
    artifacts: artifactQueries(db),
    models: modelQueries(db),
    audit: auditLogQueries(db),
    datasets: datasetQueries(db),
    lineage: lineageQueries(db),
    deployments: deploymentQueries(db),
    webhooks: webhookQueries(db),
    promotion: promotionQueries(db),
    loggedModels: loggedModelQueries(db),
    runDatasets: runDatasetQueries(db),
    reproductions: reproductionQueries(db),
  };
}

export type ReadModels = ReturnType<typeof createReadModels>;
