import type { Transport } from './transport.js';
import { asOfVariable, type ReadOptions } from './as-of.js';

export type DeploymentStatus = 'REQUESTED' | 'STARTED' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ROLLED_BACK';
export type WebhookEventKind = 'MODEL_VERSION_CREATED' | 'ALIAS_MOVED' | 'PROMOTION_REFUSED' | 'DEPLOYMENT_CHANGED';

export interface Environment {
  name: string;
  targetKind: 'WEBHOOK' | 'COMMAND';
  targetUrl: string | null;
  targetArgv: string[] | null;
  timeoutMs: number;
  maxAttempts: number | null;
  healthCheckUrl: string | null;
  createdAt: number;
  createdBy: string;
}

export interface DeploymentAttempt {
  attempt: number;
  phase: string;
  statusCode: number | null;
  exitCode: number | null;
  durationMs: number;
  error: string | null;
  output: string;
  at: number;
}

export interface Deployment {
  id: string;
  environment: string;
  model: string;
  version: number;
  sha256: string;
  artifactPath: string;
  reason: string;
  rollbackOf: string | null;
  restores: string | null;
  rolledBackBy: string | null;
  status: DeploymentStatus;
  error: string | null;
  requestedAt: number;
  requestedBy: string;
  startedAt: number | null;
  finishedAt: number | null;
  attempts: DeploymentAttempt[];
}

export interface DeployedVersion {
  environment: string;
  deploymentId: string;
  model: string;
  version: number;
  sha256: string;
  fromTime: number;
  toTime: number | null;
  deployedBy: string;
}

export interface Webhook {
  id: string;
  url: string;
  events: WebhookEventKind[];
  createdAt: number;
  createdBy: string;
}

export interface WebhookDelivery {
  deliveryId: string;
  event: WebhookEventKind;
  attempt: number;
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseSnippet: string;
  at: number;
}

export type EnvironmentTarget =
  | { webhook: { url: string; secret?: string; maxAttempts?: number } }
  | { command: string[] };

export interface CreateEnvironmentOptions {
  timeoutMs?: number;
  healthCheckUrl?: string;
  healthCheckTimeoutMs?: number;
}

const ENVIRONMENT = 'name targetKind targetUrl targetArgv timeoutMs maxAttempts healthCheckUrl createdAt createdBy';
const DEPLOYMENT = `id environment model version sha256 artifactPath reason rollbackOf restores rolledBackBy status error requestedAt requestedBy startedAt finishedAt
  attempts { attempt phase statusCode exitCode durationMs error output at }`;
const WEBHOOK = 'id url events createdAt createdBy';
const TERMINAL: ReadonlySet<DeploymentStatus> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ROLLED_BACK']);

export interface DeploymentsApi {
  /** For a webhook target without a secret, `secret` is the generated one: shown only here. */
  createEnvironment(name: string, target: EnvironmentTarget, opts?: CreateEnvironmentOptions): Promise<{ environment: Environment; secret: string | null }>;
  environments(opts?: ReadOptions): Promise<Environment[]>;
  deploy(environment: string, model: string, version: number, reason?: string): Promise<Deployment>;
  /** Default: back to the successful deployment before the live one. */
  rollback(environment: string, opts?: { toDeploymentId?: string; reason?: string }): Promise<Deployment>;
  get(id: string, opts?: ReadOptions): Promise<Deployment>;
  /** Newest first. */
  list(
    environment: string,
    opts?: { first?: number; after?: string } & ReadOptions,
  ): Promise<{ nodes: Deployment[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } }>;
  /** What was live in the environment at `at` (ms), and who deployed it; null if nothing was. */
  deployedAt(environment: string, at: number): Promise<DeployedVersion | null>;
  /** Polls until the deployment has an outcome. */
  waitFor(id: string, opts?: { timeoutMs?: number; intervalMs?: number }): Promise<Deployment>;
}

export interface WebhooksApi {
  create(url: string, events: WebhookEventKind[], secret?: string): Promise<{ webhook: Webhook; secret: string | null }>;
  list(): Promise<Webhook[]>;
  deliveries(webhookId: string, opts?: { first?: number; after?: string }): Promise<WebhookDelivery[]>;
  delete(id: string): Promise<Webhook>;
}

function helpers(t: Transport) {
  const write = async <T>(query: string, variables: Record<string, unknown>) =>
    Object.values(await t.graphql<Record<string, T>>(query, variables, { retry: true, idempotencyKey: crypto.randomUUID() }))[0]!;
  const read = async <T>(query: string, variables: Record<string, unknown>) =>
    Object.values(await t.graphql<Record<string, T>>(query, variables, { retry: true }))[0]!;
  return { write, read };
}

export function deploymentsApi(t: Transport): DeploymentsApi {
  const { write, read } = helpers(t);
  const api: DeploymentsApi = {
    createEnvironment: (name, target, opts = {}) =>
      write(`mutation($i: CreateEnvironmentInput!) { createEnvironment(input: $i) { environment { ${ENVIRONMENT} } secret } }`, {
        i: { name, ...target, ...opts },
      }),
    environments: (opts = {}) => read(`query($asOf: AsOf) { environments(asOf: $asOf) { ${ENVIRONMENT} } }`, { asOf: asOfVariable(opts.asOf) }),
    deploy: (environment, model, version, reason) =>
      write(`mutation($e: String!, $m: String!, $v: Int!, $r: String) { deployModelVersion(environment: $e, model: $m, version: $v, reason: $r) { ${DEPLOYMENT} } }`, {
        e: environment,
        m: model,
        v: version,
        r: reason ?? null,
      }),
    rollback: (environment, opts = {}) =>
      write(`mutation($e: String!, $to: ID, $r: String) { rollbackDeployment(environment: $e, toDeploymentId: $to, reason: $r) { ${DEPLOYMENT} } }`, {
        e: environment,
        to: opts.toDeploymentId ?? null,
        r: opts.reason ?? null,
      }),
    get: (id, opts = {}) => read(`query($id: ID!, $asOf: AsOf) { deployment(id: $id, asOf: $asOf) { ${DEPLOYMENT} } }`, { id, asOf: asOfVariable(opts.asOf) }),
    list: (environment, opts = {}) =>
      read(
        `query($e: String!, $f: Int, $a: String, $asOf: AsOf) { deployments(environment: $e, first: $f, after: $a, asOf: $asOf) { nodes { ${DEPLOYMENT} } pageInfo { endCursor hasNextPage } } }`,
        { e: environment, f: opts.first ?? null, a: opts.after ?? null, asOf: asOfVariable(opts.asOf) },
      ),
    deployedAt: (environment, at) =>
      read(`query($e: String!, $at: Float!) { deployedAt(environment: $e, at: $at) { environment deploymentId model version sha256 fromTime toTime deployedBy } }`, {
        e: environment,
        at,
      }),
    async waitFor(id, opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
      for (;;) {
        const d = await api.get(id);
        if (TERMINAL.has(d.status)) return d;
        if (Date.now() > deadline) throw new Error(`deployment ${id} is still ${d.status} after ${opts.timeoutMs ?? 600_000} ms`);
        await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
      }
    },
  };
  return api;
}

export function webhooksApi(t: Transport): WebhooksApi {
  const { write, read } = helpers(t);
  return {
    create: (url, events, secret) =>
      write(`mutation($u: String!, $e: [WebhookEventKind!]!, $s: String) { createWebhook(url: $u, events: $e, secret: $s) { webhook { ${WEBHOOK} } secret } }`, {
        u: url,
        e: events,
        s: secret ?? null,
      }),
    list: () => read(`{ webhooks { ${WEBHOOK} } }`, {}),
    deliveries: async (webhookId, opts = {}) =>
      (
        await read<{ nodes: WebhookDelivery[] }>(
          `query($w: ID!, $f: Int, $a: String) { webhookDeliveries(webhookId: $w, first: $f, after: $a) { nodes { deliveryId event attempt ok statusCode durationMs error responseSnippet at } } }`,
          { w: webhookId, f: opts.first ?? null, a: opts.after ?? null },
        )
      ).nodes,
    delete: (id) => write(`mutation($id: ID!) { deleteWebhook(id: $id) { ${WEBHOOK} } }`, { id }),
  };
}
