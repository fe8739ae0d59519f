import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { startSealing } from './audit-seals.js';
import { bootstrap } from './bootstrap.js';
import type { ServerConfig } from './config.js';
import { startDeliveryWorkers } from './deployments/workers.js';
import { createHttpApp } from './http/app.js';
import { openPlatform, type Platform } from './platform.js';

export interface RunningServer {
  app: FastifyInstance;
  platform: Platform;
  url: string;
  /** Stops accepting requests, lets in-flight ones finish, then closes the store. */
  stop(): Promise<void>;
}

export async function startServer(config: ServerConfig, logger: Logger = pino({ level: config.logLevel })): Promise<RunningServer> {
  const started = performance.now();
  const platform = await openPlatform({ dataDir: config.dataDir, logger });
  await bootstrap(platform, config.dataDir, logger);
  const sealer = startSealing({ seal: platform.audit.seal, intervalMs: config.sealIntervalMs, logger });
  // Deployment commands run programs with the server's own environment (PATH, HOME...).
  const workers = await startDeliveryWorkers(platform, config, logger, process.env);
  const app = await createHttpApp(platform, config, logger);
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info(
    { url, dataDir: config.dataDir, head: await platform.store.headPosition(), ms: Math.round(performance.now() - started) },
    `Chronicle is listening on ${url} (GraphQL at ${url}/graphql)`,
  );
  let stopping: Promise<void> | null = null;
  return {
    app,
    platform,
    url,
    stop() {
      stopping ??= (async () => {
        // Workers stop while requests drain: a deployment command still running is killed and
        // recorded as interrupted now, not orphaned if draining outlasts the grace period.
        await Promise.all([app.close(), workers.stop()]);
        await sealer.stop();
        await platform.close();
        logger.info('Chronicle stopped');
      })();
      return stopping;
    },
  };
}

/** SIGINT/SIGTERM: finish what is in flight, then exit; a second signal exits at once. */
export function stopOnSignals(
  server: RunningServer,
  logger: Pick<Logger, 'info' | 'error'> = server.app.log,
  graceMs = 10_000,
): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    server.stop().then(
      () => process.exit(0),
      (e) => {
        logger.error({ err: e }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
