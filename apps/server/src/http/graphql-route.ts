import { ApolloServer } from '@apollo/server';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import { loadManifest } from '@chronicle/datasets';
import { buildSchema, formatError, type GraphQLContext } from '@chronicle/graphql';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';

export async function registerGraphQL(app: FastifyInstance, platform: Platform): Promise<ApolloServer<GraphQLContext>> {
  const apollo = new ApolloServer<GraphQLContext>({
    schema: buildSchema(),
    introspection: true,
    // Stack traces never leave the server; formatError masks anything unexpected.
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => formatError(formatted, error, (e) => app.log.error({ err: e }, 'resolver failed')),
    plugins: [fastifyApolloDrainPlugin(app)],
  });
  await apollo.start();
  const handler = fastifyApolloHandler(apollo, {
    context: async (request) => ({
      principal: request.principal,
      commands: platform.commands,
      read: platform.read,
      audit: platform.audit,
      timeTravel: platform.timeTravel,
      correlationId: request.id,
      manifests: { load: (sha256: string) => loadManifest(platform.blobs, sha256) },
      ...(typeof request.headers['idempotency-key'] === 'string' ? { idempotencyKey: request.headers['idempotency-key'] } : {}),
    }),
  });
  app.route({ url: '/graphql', method: ['GET', 'POST', 'OPTIONS'], handler });
  return apollo;
}
