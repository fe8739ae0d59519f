import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';
import { loggedModelFiles, registerLoggedModels } from './logged-models.js';
import { registerModelRoutes } from './registry/models-routes.js';
import { DeliveredAnswers } from './registry/retry.js';
import { registerVersionRoutes } from './registry/versions-routes.js';

/**
 * MLflow's model registry (`/api/2.0/mlflow/registered-models/...`, `/model-versions/...`) and
 * MLflow 3's logged models, on Chronicle's registry: every write is the registry command the
 * GraphQL API sends, so alias and stage history, promotion gates and the audit log apply.
 */
export function registerMlflowRegistry(app: FastifyInstance, platform: Platform): void {
  // Which create answers reached their clients: how a blind retry is told from a new request.
  const deliveries = new DeliveredAnswers();
  registerModelRoutes(app, platform, deliveries);
  registerVersionRoutes(app, platform, (modelId) => loggedModelFiles(platform, modelId), deliveries);
  registerLoggedModels(app, platform);
}
