import { ActiveRun, type ActiveRunOptions } from './active-run.js';
import { artifactsApi, type ArtifactsApi } from './artifacts.js';
import { auditApi, type AuditApi } from './audit.js';
import { datasetsApi, type CommitDatasetOptions, type DatasetCommitResult, type DatasetFileInput, type DatasetsApi, type RunInputDeclaration, type RunInputView } from './datasets.js';
import { ChronicleApiError } from './errors.js';
import { experimentsApi, type ExperimentsApi } from './experiments.js';
import { modelsApi, type ModelsApi } from './models.js';
import { deploymentsApi, webhooksApi, type DeploymentsApi, type WebhooksApi } from './deployments.js';
import { promotionApi, type PromotionApi } from './promotion.js';
import { runsApi, type RunsApi, type StartRunInput } from './runs.js';
import { Transport, type RetryOptions } from './transport.js';
import type { KeyValuesInput } from './types.js';
import { tokensApi, usersApi, type TokensApi, type UsersApi } from './users.js';

export interface ClientOptions extends ActiveRunOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:4000`. */
  url: string;
  /** API token; without one, only requests from the server's own machine may be let in. */
  token?: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof globalThis.fetch;
  /** Per request. Default 30 000 ms. */
  timeoutMs?: number;
  /** Backoff for reads and idempotent writes after network errors and 5xx. */
  retry?: RetryOptions;
}

export type StartRunOptions = Omit<StartRunInput, 'experimentId'> &
  ActiveRunOptions & {
    /** The experiment to log to; the Default experiment ("0") if neither this nor experimentName is given. */
    experimentId?: string;
    /** The experiment to log to, created if it does not exist yet. */
    experimentName?: string;
    params?: KeyValuesInput;
  };

export interface ChronicleClient {
  readonly url: string;
  /** Runs any GraphQL operation and returns its `data`; errors throw ChronicleApiError. */
  graphql<T = unknown>(query: string, variables?: Record<string, unknown>): Promise<T>;
  readonly experiments: ExperimentsApi;
  readonly runs: RunsApi;
  readonly users: UsersApi;
  readonly tokens: TokensApi;
  /** Run artifacts, streamed up and down. */
  readonly artifacts: ArtifactsApi;
  /** The model registry: models, versions, aliases, stages. */
  readonly models: ModelsApi;
  /** Promotion gates, approvals, dry-run checks and refusals. */
  readonly promotion: PromotionApi;
  /** Entity histories, the audit log and integrity verification. */
  readonly audit: AuditApi;
  /** Dataset versions, blobs and run lineage. */
  readonly datasets: DatasetsApi;
  /** Uploads the files the server lacks and records a dataset version (created if needed). */
  commitDataset(dataset: string, files: readonly DatasetFileInput[], opts?: CommitDatasetOptions): Promise<DatasetCommitResult>;
  /** Declares the dataset versions (number or tag) a run read, each with its role. */
  declareRunInputs(runId: string, inputs: RunInputDeclaration[]): Promise<RunInputView[]>;
  /** Environments, deployments and rollbacks. */
  readonly deployments: DeploymentsApi;
  /** Signed webhook subscriptions to registry events. */
  readonly webhooks: WebhooksApi;
  /** Starts a run (creating its experiment by name if needed) and returns it ready for logging. */
  startRun(opts?: StartRunOptions): Promise<ActiveRun>;
  /** Logs to a run that already exists, e.g. one started by another process. */
  resumeRun(runId: string, opts?: ActiveRunOptions): Promise<ActiveRun>;
}

export const DEFAULT_EXPERIMENT_ID = '0';

export function createClient(options: ClientOptions): ChronicleClient {
  const transport = new Transport(options);
  const experiments = experimentsApi(transport);
  const runs = runsApi(transport);
  const datasets = datasetsApi(transport);
  const runDefaults: ActiveRunOptions = {
    ...(options.flushIntervalMs !== undefined ? { flushIntervalMs: options.flushIntervalMs } : {}),
    ...(options.maxBatchPoints !== undefined ? { maxBatchPoints: options.maxBatchPoints } : {}),
    ...(options.onFlushError !== undefined ? { onFlushError: options.onFlushError } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  };

  async function experimentIdByName(name: string): Promise<string> {
    try {
      return (await experiments.getByName(name)).id;
    } catch (e) {
      if (!(e instanceof ChronicleApiError && e.code === 'NOT_FOUND')) throw e;
    }
    try {
      return (await experiments.create({ name })).id;
    } catch (e) {
      // Another process created it between our read and our write: use theirs.
      if (e instanceof ChronicleApiError && e.code === 'CONFLICT') return (await experiments.getByName(name)).id;
      throw e;
    }
  }

  return {
    url: transport.baseUrl,
    graphql: (query, variables) => transport.graphql(query, variables ?? {}),
    experiments,
    runs,
    users: usersApi(transport),
    tokens: tokensApi(transport),
    artifacts: artifactsApi(transport),
    models: modelsApi(transport),
    promotion: promotionApi(transport),
    audit: auditApi(transport),
    datasets,
    commitDataset: (dataset, files, opts) => datasets.commit(dataset, files, opts),
    declareRunInputs: (runId, inputs) => datasets.declareRunInputs(runId, inputs),
    deployments: deploymentsApi(transport),
    webhooks: webhooksApi(transport),

    async startRun(opts = {}) {
      const { experimentId, experimentName, params, flushIntervalMs, maxBatchPoints, onFlushError, now, ...input } = opts;
      if (experimentId !== undefined && experimentName !== undefined)
        throw new TypeError('startRun: give experimentId or experimentName, not both');
      const expId = experimentName !== undefined ? await experimentIdByName(experimentName) : (experimentId ?? DEFAULT_EXPERIMENT_ID);
      const run = await runs.start({ ...input, experimentId: expId });
      if (params !== undefined) await runs.logParams(run.id, params);
      return new ActiveRun(run, runs, {
        ...runDefaults,
        ...(flushIntervalMs !== undefined ? { flushIntervalMs } : {}),
        ...(maxBatchPoints !== undefined ? { maxBatchPoints } : {}),
        ...(onFlushError !== undefined ? { onFlushError } : {}),
        ...(now !== undefined ? { now } : {}),
      });
    },

    async resumeRun(runId, opts = {}) {
      const run = await runs.get(runId);
      return new ActiveRun(run, runs, { ...runDefaults, ...opts });
    },
  };
}
