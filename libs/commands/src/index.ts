export { createCommands, hashSecret, type Commands, type CommandsOptions, type CommandResult, type StartRunInput, type MetricInput } from './commands.js';
export type { CommandContext } from './context.js';
export {
  createRegistryCommands,
  type PromotionGate,
  type LogArtifactInput,
  type RegisterModelInput,
  type CreateModelVersionInput,
} from './registry.js';
