import type { DeployedVersion, DeploymentAttempt, DeploymentTarget, HealthCheck } from './events.js';

/** The model version as the command handler found it (null: no such version, or deleted). */
export type ModelVersionFact = DeployedVersion | null;

export type CreateEnvironment = {
  type: 'CreateEnvironment';
  data: { name: string; target: DeploymentTarget; healthCheck: HealthCheck | null; at: number };
};
export type RequestDeployment = {
  type: 'RequestDeployment';
  data: { environment: string; deploymentId: string; version: ModelVersionFact; requested: { model: string; version: number }; reason: string; at: number };
};
export type RequestRollback = {
  type: 'RequestRollback';
  data: {
    environment: string;
    deploymentId: string;
    /** An earlier successful deployment to restore; undefined: the one before the live one. */
    toDeploymentId: string | undefined;
    /** Set by the executor after a failure: the failed deployment to undo. */
    afterFailureOf: string | undefined;
    reason: string | undefined;
    at: number;
  };
};
export type StartDeployment = { type: 'StartDeployment'; data: { environment: string; deploymentId: string; at: number } };
export type RecordDeploymentAttempt = {
  type: 'RecordDeploymentAttempt';
  data: DeploymentAttempt & { environment: string; deploymentId: string; at: number };
};
export type FinishDeployment = {
  type: 'FinishDeployment';
  data: { environment: string; deploymentId: string; outcome: 'succeeded' | 'failed' | 'timed_out'; error: string | null; at: number };
};

export type EnvironmentCommand =
  | CreateEnvironment
  | RequestDeployment
  | RequestRollback
  | StartDeployment
  | RecordDeploymentAttempt
  | FinishDeployment;
