export { createClient, DEFAULT_EXPERIMENT_ID, type ChronicleClient, type ClientOptions, type StartRunOptions } from './client.js';
export { ActiveRun, type ActiveRunOptions } from './active-run.js';
export { ChronicleApiError, ChronicleNetworkError, isRetryable } from './errors.js';
export type { CreateExperimentInput, ExperimentsApi } from './experiments.js';
export type { RunSearch, RunsApi, StartRunInput, StartRunSource } from './runs.js';
export type { TokensApi, UsersApi } from './users.js';
export type {
  AuditApi,
  AuditEntry,
  AuditEntryPage,
  AuditExportFormat,
  AuditLogFilter,
  AuditReportDocument,
  AuditReportFormat,
  IntegrityBreak,
  IntegrityReport,
  RecipeDocument,
  ReproductionRecipeResult,
} from './audit.js';
export type { ArtifactDownload, ArtifactLocalFile, ArtifactUpload, ArtifactsApi } from './artifacts.js';
export type { ModelStage, ModelVersion, ModelsApi, PointerPeriod, RegisteredModel } from './models.js';
export type { RetryOptions, StreamingBody, StreamingRequest } from './transport.js';
export { encodeMetricValue, decodeMetricValue, type WireMetricValue } from './metric-value.js';
export type {
  ApiToken,
  CreatedToken,
  Experiment,
  IngestResult,
  KeyValue,
  KeyValuesInput,
  LatestMetric,
  Lifecycle,
  LifecycleFilter,
  MetricHistory,
  MetricPoint,
  MetricPointInput,
  MetricSeries,
  PageInfo,
  Role,
  Run,
  RunPage,
  RunSource,
  RunStatus,
  TerminalStatus,
  User,
  Viewer,
} from './types.js';
export type { PromotionApi, PromotionCheck, PromotionGates, PromotionDecision, RuleCheck, RequiredInput as GateRequiredInput, SetGatesInput, ApproverRole } from './promotion.js';
export type {
  CreateEnvironmentOptions,
  DeployedVersion,
  Deployment,
  DeploymentAttempt,
  DeploymentStatus,
  DeploymentsApi,
  Environment,
  EnvironmentTarget,
  Webhook,
  WebhookDelivery,
  WebhookEventKind,
  WebhooksApi,
} from './deployments.js';
export {
  BATCH_ITEM_MAX,
  encodeBlobBatch,
  encodeManifest,
  type BlobBatchItem,
  type CommitDatasetOptions,
  type CommitProgress,
  type DatasetCommitResult,
  type DatasetFileInput,
  type DatasetsApi,
  type DatasetVersionView,
  type ManifestFile,
  type RunInputDeclaration,
  type RunInputView,
} from './datasets.js';
export type { AsOf, ReadOptions } from './as-of.js';
