import type { ServerConfig } from '@chronicle/server';
import { Option, type Command } from 'commander';
import { integer } from '../args.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOOPBACK_ROLES = ['admin', 'maintainer', 'member', 'viewer', 'none'] as const;

interface ServerFlags {
  host?: string;
  port?: number;
  dataDir?: string;
  logLevel?: ServerConfig['logLevel'];
  loopbackRole?: ServerConfig['loopbackRole'];
}

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('run the Chronicle server (GraphQL at /graphql, bulk ingest at /api/v1)')
    .option('--host <host>', 'interface to listen on (env CHRONICLE_HOST, default 127.0.0.1)')
    .addOption(new Option('--port <port>', 'port to listen on (env CHRONICLE_PORT, default 4000)').argParser(integer({ min: 0, max: 65535 })))
    .option('--data-dir <dir>', 'where the event log lives (env CHRONICLE_DATA_DIR, default ./.chronicle)')
    .addOption(new Option('--log-level <level>', 'env CHRONICLE_LOG_LEVEL, default info').choices(LOG_LEVELS))
    .addOption(
      new Option('--loopback-role <role>', 'role of token-less requests from this machine; none always requires a token (env CHRONICLE_LOOPBACK_ROLE, default admin)').choices(
        LOOPBACK_ROLES,
      ),
    )
    .addHelpText(
      'after',
      `
Flags override the environment. On first start the server writes an admin token to
<data-dir>/admin-token.

Examples:
  $ chronicle server
  $ chronicle server --host 0.0.0.0 --port 8080 --data-dir /var/lib/chronicle --loopback-role none`,
    )
    .action(async (flags: ServerFlags) => {
      const overrides: { -readonly [K in keyof ServerConfig]?: ServerConfig[K] } = {};
      if (flags.host !== undefined) overrides.host = flags.host;
      if (flags.port !== undefined) overrides.port = flags.port;
      if (flags.dataDir !== undefined) overrides.dataDir = flags.dataDir;
      if (flags.logLevel !== undefined) overrides.logLevel = flags.logLevel;
      if (flags.loopbackRole !== undefined) overrides.loopbackRole = flags.loopbackRole;
      // Loaded here, not at the top: client commands should not pay for Fastify, Apollo and SQLite.
      const { loadConfig, startServer, stopOnSignals } = await import('@chronicle/server');
      const config = loadConfig(process.env, overrides);
      const server = await startServer(config);
      // startServer made the pino logger from config.logLevel; Fastify keeps it as app.log.
      stopOnSignals(server, server.app.log, config.shutdownGraceMs);
    });
}
