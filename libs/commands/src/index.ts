export { createCommands, hashSecret, type Commands, type CommandsOptions, type CommandResult, type StartRunInput, type MetricInput } from './commands.js';
export type { CommandContext } from './context.js';
export {
  createRegistryCommands,
  type PromotionGate,
  type LogArtifactInput,
  type RegisterModelInput,
  type CreateModelVersionInput,
} from './registry.js';
export {
  createDatasetCommands,
  type ManifestInspector,
  type CommitDatasetVersionInput,
  type DatasetVersionRef,
  type DeclaredInput,
  type DeclaredOutput,
} from './datasets.js';
export {
  createDeploymentCommands,
  modelVersionFact,
  newSigningSecret,
  DEFAULT_TARGET_TIMEOUT_MS,
  type CreateEnvironmentInput,
  type TargetInput,
} from './deployments.js';
export { createWebhookCommands } from './webhooks.js';
export { createPromotionCommands, type PromotionCommands, type PromotionFactSources, type SetPromotionGatesInput, type PromotionCheckResult } from './promotion.js';
export { createLoggedModelCommands, newLoggedModelId, type LoggedModelCommands, type CreateLoggedModelInput } from './logged-models.js';
