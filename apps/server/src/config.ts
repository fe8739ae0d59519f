import { isAbsolute } from 'node:path';
import { ROLES } from '@chronicle/domain';
import { z } from 'zod';

/** Every setting of the server, from the environment (flags of `chronicle server` land here too). */
const schema = z.object({
  CHRONICLE_HOST: z.string().default('127.0.0.1'),
  CHRONICLE_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  CHRONICLE_DATA_DIR: z.string().min(1).default('./.chronicle'),
  CHRONICLE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Role given to requests from this machine that carry no token; `none` requires a token always. */
  CHRONICLE_LOOPBACK_ROLE: z.enum([...ROLES, 'none']).default('admin'),
  CHRONICLE_MAX_BODY_MB: z.coerce.number().positive().max(1024).default(64),
  /** Seconds in-flight requests get to finish on SIGTERM before the server stops anyway. */
  CHRONICLE_SHUTDOWN_GRACE_S: z.coerce.number().positive().default(10),
  /** Seconds between seals of the event log (also sealed on shutdown); 0 seals on shutdown only. */
  CHRONICLE_SEAL_INTERVAL_S: z.coerce.number().min(0).default(300),
  /** First wait before retrying a webhook or deployment delivery; doubled at each retry. */
  CHRONICLE_DELIVERY_BACKOFF_MS: z.coerce.number().int().min(1).max(600_000).default(1000),
  /** Attempts per webhook subscription delivery before it is given up (every attempt is logged). */
  CHRONICLE_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  CHRONICLE_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(10_000),
  // Same-host transfers: directories (colon-separated, absolute) from which a client on this
  // machine may have the server copy a file instead of streaming it; empty turns them off.
  CHRONICLE_LOCAL_TRANSFER_ROOTS: z
    .string()
    .default('')
    .transform((v) => v.split(':').filter((d) => d.length > 0))
    .refine((dirs) => dirs.every((d) => isAbsolute(d)), 'every directory must be an absolute path'),
});

export type ServerConfig = Readonly<{
  host: string;
  port: number;
  dataDir: string;
  logLevel: z.infer<typeof schema>['CHRONICLE_LOG_LEVEL'];
  loopbackRole: z.infer<typeof schema>['CHRONICLE_LOOPBACK_ROLE'];
  maxBodyBytes: number;
  shutdownGraceMs: number;
  sealIntervalMs: number;
  deliveryBackoffMs: number;
  webhookMaxAttempts: number;
  webhookTimeoutMs: number;
  localTransferRoots: readonly string[];
}>;

export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<ServerConfig> = {}): ServerConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    host: e.CHRONICLE_HOST,
    port: e.CHRONICLE_PORT,
    dataDir: e.CHRONICLE_DATA_DIR,
    logLevel: e.CHRONICLE_LOG_LEVEL,
    loopbackRole: e.CHRONICLE_LOOPBACK_ROLE,
    maxBodyBytes: Math.round(e.CHRONICLE_MAX_BODY_MB * 1024 * 1024),
    shutdownGraceMs: e.CHRONICLE_SHUTDOWN_GRACE_S * 1000,
    sealIntervalMs: e.CHRONICLE_SEAL_INTERVAL_S * 1000,
    deliveryBackoffMs: e.CHRONICLE_DELIVERY_BACKOFF_MS,
    webhookMaxAttempts: e.CHRONICLE_WEBHOOK_MAX_ATTEMPTS,
    webhookTimeoutMs: e.CHRONICLE_WEBHOOK_TIMEOUT_MS,
    localTransferRoots: e.CHRONICLE_LOCAL_TRANSFER_ROOTS,
    ...overrides,
  });
}
