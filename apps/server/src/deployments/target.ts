import type { DeployedVersion, DeploymentAttempt, DeploymentTarget } from '@chronicle/domain';

export interface DeploymentJob extends DeployedVersion {
  environment: string;
  deploymentId: string;
  reason: string;
  rollbackOf: string | null;
  requestedBy: string;
}

export interface TargetOutcome {
  outcome: 'succeeded' | 'failed' | 'timed_out';
  error: string | null;
}

/** What a target gets to do its work: the job, a file with the version's bytes, and its limits. */
export interface TargetContext {
  job: DeploymentJob;
  /** Materialises the version's artifact on disk and returns its path (only asked for when needed). */
  artifactFile(): Promise<string>;
  /** Epoch ms: past it, the target is aborted and the deployment times out. */
  deadline: number;
  clock: () => number;
  /** Aborted when the server shuts down: the work stops and is not recorded as finished. */
  signal: AbortSignal;
  onAttempt(attempt: DeploymentAttempt): Promise<void>;
}

/** A way of putting a model version into service. */
export interface TargetRunner<T extends DeploymentTarget = DeploymentTarget> {
  run(target: T, ctx: TargetContext): Promise<TargetOutcome>;
}
