import type { DomainEvent } from '../shared/decider.js';

/** One stream per environment: its target and its whole deployment history. */
export const environmentStream = (name: string) => `environment-${name}`;

/** POST the deployment as signed JSON; a 2xx answer means deployed. */
export interface WebhookTarget {
  kind: 'webhook';
  url: string;
  /** HMAC-SHA256 key of the `Chronicle-Signature` header. Never shown by the read models. */
  secret: string;
  timeoutMs: number;
  maxAttempts: number;
}

/** Run a program (argv, never a shell line); exit code 0 means deployed. */
export interface CommandTarget {
  kind: 'command';
  argv: string[];
  timeoutMs: number;
}

export type DeploymentTarget = WebhookTarget | CommandTarget;

/** Polled after a target reports success; the deployment fails unless it answers 2xx in time. */
export interface HealthCheck {
  url: string;
  timeoutMs: number;
}

export type DeploymentStatus = 'requested' | 'started' | 'succeeded' | 'failed' | 'timed_out' | 'rolled_back';
export type DeploymentOutcome = 'succeeded' | 'failed' | 'timed_out';

export interface DeployedVersion {
  model: string;
  version: number;
  sha256: string;
  artifactPath: string;
}

/** One try at reaching the target: an HTTP request, a process run, or a health probe. */
export interface DeploymentAttempt {
  attempt: number;
  phase: 'deploy' | 'health_check';
  statusCode: number | null;
  exitCode: number | null;
  durationMs: number;
  error: string | null;
  /** The last 4 KB of a command's output, or the start of an HTTP answer. */
  output: string;
}

export type EnvironmentCreated = DomainEvent<
  'EnvironmentCreated',
  { name: string; target: DeploymentTarget; healthCheck: HealthCheck | null; at: number }
>;
export type DeploymentRequested = DomainEvent<
  'DeploymentRequested',
  DeployedVersion & {
    environment: string;
    deploymentId: string;
    reason: string;
    /** The deployment this one undoes (a rollback), else null. */
    rollbackOf: string | null;
    /** The earlier deployment whose version a rollback restores, else null. */
    restores: string | null;
    at: number;
  }
>;
export type DeploymentStarted = DomainEvent<'DeploymentStarted', { environment: string; deploymentId: string; at: number }>;
export type DeploymentAttemptRecorded = DomainEvent<
  'DeploymentAttemptRecorded',
  DeploymentAttempt & { environment: string; deploymentId: string; at: number }
>;
export type DeploymentSucceeded = DomainEvent<'DeploymentSucceeded', { environment: string; deploymentId: string; at: number }>;
export type DeploymentFailed = DomainEvent<
  'DeploymentFailed',
  { environment: string; deploymentId: string; outcome: 'failed' | 'timed_out'; error: string; at: number }
>;

export type EnvironmentEvent =
  | EnvironmentCreated
  | DeploymentRequested
  | DeploymentStarted
  | DeploymentAttemptRecorded
  | DeploymentSucceeded
  | DeploymentFailed;

export const DEPLOYMENT_EVENT_TYPES: ReadonlySet<string> = new Set([
  'DeploymentRequested',
  'DeploymentStarted',
  'DeploymentSucceeded',
  'DeploymentFailed',
]);
