import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Principal } from '@chronicle/domain';
import type { Logger } from 'pino';
import type { Platform } from './platform.js';

export const SYSTEM: Principal = { username: 'chronicle', role: 'admin', via: { kind: 'system' } };
export const DEFAULT_EXPERIMENT_ID = '0';
export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * First start of a data directory: the Default experiment (id "0", as MLflow clients
 * expect) and an admin with a token, printed once and kept in the data directory.
 */
export async function bootstrap(p: Platform, dataDir: string, logger: Logger): Promise<void> {
  const ctx = { principal: SYSTEM };
  if (!p.read.experiments.get(DEFAULT_EXPERIMENT_ID)) {
    await p.commands.experiments.create(ctx, { experimentId: DEFAULT_EXPERIMENT_ID, name: 'Default' });
    logger.info('created the Default experiment (id 0)');
  }
  const tokenFile = join(dataDir, ADMIN_TOKEN_FILE);
  if (!p.read.users.get('admin')) {
    await p.commands.users.create(ctx, 'admin', 'admin');
    const { secret, tokenId } = await p.commands.users.issueToken(ctx, { username: 'admin', name: 'bootstrap admin token' });
    writeFileSync(tokenFile, `${secret}\n`, { mode: 0o600 });
    // Printed once, on purpose outside the structured log, so it never lands in log storage.
    process.stdout.write(
      `\nChronicle admin token (shown once; also saved to ${tokenFile}):\n  ${secret}\nRevoke it with: chronicle tokens revoke ${tokenId}\n\n`,
    );
  } else if (!existsSync(tokenFile)) {
    logger.warn({ tokenFile }, 'the bootstrap admin token file is gone; issue a new token with `chronicle tokens create`');
  }
}
