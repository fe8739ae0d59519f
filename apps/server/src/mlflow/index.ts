import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';
import { registerMlflowArtifacts } from './artifacts.js';
import { registerMlflowRegistry } from './registry.js';
import { registerMlflowTracking } from './tracking.js';
import { MlflowError, mlflowErrorHandler, sendMlflowError } from './wire.js';

/**
 * The MLflow REST API (`/api/2.0/mlflow/...`, `/api/2.0/mlflow-artifacts/...`), so existing
 * MLflow code runs unchanged with `MLFLOW_TRACKING_URI` pointed here. Every write becomes the
 * same Chronicle command the GraphQL API sends.
 */
export async function registerMlflowApi(app: FastifyInstance, platform: Platform): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler(mlflowErrorHandler);
    registerMlflowTracking(scope, platform);
    registerMlflowRegistry(scope, platform);
    registerMlflowArtifacts(scope, platform);
  });
}

/** Unknown MLflow endpoints answer in MLflow's error shape, so clients show a useful message. */
export function isMlflowPath(url: string): boolean {
  return /^\/(ajax-)?api\/[23]\.0\/mlflow(-artifacts)?\//.test(url);
}

export function sendEndpointNotFound(reply: import('fastify').FastifyReply, method: string, url: string) {
  return sendMlflowError(reply, new MlflowError('ENDPOINT_NOT_FOUND', `no MLflow endpoint ${method} ${url.split('?')[0]}`));
}
