import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CommandContext } from '@chronicle/commands';
import { messageOf, type MlflowMessage } from '../wire.js';

type Handler = (m: MlflowMessage, request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * Registers an MLflow endpoint under `/api/2.0/mlflow` and `/ajax-api/2.0/mlflow` (the UI's
 * prefix), handing the handler the request message whatever the method.
 */
export function endpoint(app: FastifyInstance, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, handler: Handler): void {
  for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow'])
    app.route({ method, url: `${prefix}${path}`, handler: (request, reply) => handler(messageOf(request), request, reply) });
}

/** Who asks, traced by the request id; an explicit Idempotency-Key header is honoured everywhere. */
export function commandContext(request: FastifyRequest): CommandContext {
  const key = request.headers['idempotency-key'];
  return { principal: request.principal, correlationId: request.id, ...(typeof key === 'string' && key ? { idempotencyKey: key } : {}) };
}
