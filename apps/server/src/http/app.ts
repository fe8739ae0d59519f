import { randomUUID } from 'node:crypto';
import type { Principal } from '@chronicle/domain';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createAuthenticator } from '../auth.js';
import type { ServerConfig } from '../config.js';
import type { Platform } from '../platform.js';
import { registerAdmin } from './admin-route.js';
import { registerAuditExport } from './audit-route.js';
import { registerAuditReport } from './audit-report-route.js';
import { errorHandler } from './error-handler.js';
import { registerArtifacts } from './artifacts-route.js';
import { localTransfers } from './local-transfers.js';
import { registerBlobs } from './blobs-route.js';
import { registerGraphQL } from './graphql-route.js';
import { registerIngest } from './ingest-route.js';
import { registerMetrics } from './metrics-route.js';
import { isMlflowPath, registerMlflowApi, sendEndpointNotFound } from '../mlflow/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

// Health and metrics are for load balancers and Prometheus, which carry no token.
const PUBLIC_ROUTES = new Set(['/healthz', '/metrics']);

/** Builds the HTTP app without listening, so tests can bind it to any port. */
export async function createHttpApp(platform: Platform, config: ServerConfig, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.maxBodyBytes,
    // The caller's correlation id, if it sent one, threads through logs and events.
    genReqId: (req) => {
      const h = req.headers['x-correlation-id'];
      return typeof h === 'string' && /^[\w.:-]{1,128}$/.test(h) ? h : randomUUID();
    },
    requestIdHeader: false,
    return503OnClosing: true,
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    isMlflowPath(request.url)
      ? sendEndpointNotFound(reply, request.method, request.url)
      : reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );

  const authenticate = createAuthenticator({ read: platform.read, loopbackRole: config.loopbackRole });
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-correlation-id', request.id);
    if (PUBLIC_ROUTES.has(request.routeOptions.url ?? '')) return;
    request.principal = authenticate(request.headers.authorization, request.socket.remoteAddress);
  });

  // 503 once projecting has stopped: writes are still recorded, but nothing reads them back.
  app.get('/healthz', async (_request, reply) => {
    const failure = platform.runner.error;
    const body = { head: await platform.store.headPosition(), projected: platform.runner.position };
    if (!failure) return { status: 'ok', ...body };
    return reply.code(503).send({ status: 'failing', ...body, error: `a projection failed: ${failure instanceof Error ? failure.message : String(failure)}` });
  });

  registerMetrics(app, platform);
  registerIngest(app, platform);
  const transfers = localTransfers(config.localTransferRoots);
  registerArtifacts(app, platform, transfers);
  registerBlobs(app, platform, transfers);
  registerAuditExport(app, platform);
  registerAuditReport(app, platform);
  registerAdmin(app, platform, config.dataDir);
  await registerMlflowApi(app, platform);
  await registerGraphQL(app, platform);
  return app;
}
