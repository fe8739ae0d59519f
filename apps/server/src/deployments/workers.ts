import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.js';
import type { Platform } from '../platform.js';
import { startWebhookDispatcher } from '../webhooks/dispatcher.js';
import { startDeploymentExecutor } from './executor.js';

/** The deployment executor and the webhook dispatcher, started and stopped together. */
export async function startDeliveryWorkers(
  platform: Platform,
  config: ServerConfig,
  logger: Logger,
  baseEnv: Record<string, string | undefined>,
): Promise<{ stop(): Promise<void> }> {
  const clock = Date.now;
  const executor = await startDeploymentExecutor({
    store: platform.store,
    read: platform.read,
    commands: platform.commands,
    blobs: platform.blobs,
    workDir: join(config.dataDir, 'deployments'),
    baseEnv,
    backoffMs: config.deliveryBackoffMs,
    clock,
    logger: logger.child({ component: 'deployments' }),
  });
  const dispatcher = await startWebhookDispatcher({
    db: platform.db,
    store: platform.store,
    read: platform.read,
    commands: platform.commands,
    waitForReadModels: (position) => platform.runner.waitFor(position),
    maxAttempts: config.webhookMaxAttempts,
    backoffMs: config.deliveryBackoffMs,
    timeoutMs: config.webhookTimeoutMs,
    clock,
    logger: logger.child({ component: 'webhooks' }),
  });
  return {
    async stop() {
      await Promise.all([executor.stop(), dispatcher.stop()]);
    },
  };
}
