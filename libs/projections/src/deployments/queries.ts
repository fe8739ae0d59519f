import type { DeploymentStatus } from '@chronicle/domain';
import type { SqliteDatabase } from '@chronicle/event-store';
import { decodePage, toPage, type Page, type PageArgs } from '../pagination.js';

export interface EnvironmentView {
  name: string;
  targetKind: 'webhook' | 'command';
  targetUrl: string | null;
  targetArgv: string[] | null;
  timeoutMs: number;
  maxAttempts: number | null;
  healthCheckUrl: string | null;
  createdAt: number;
  createdBy: string;
}

export interface DeploymentView {
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
}

export interface DeploymentAttemptView {
  deploymentId: string;
  attempt: number;
  phase: 'deploy' | 'health_check';
  statusCode: number | null;
  exitCode: number | null;
  durationMs: number;
  error: string | null;
  output: string;
  at: number;
}

/** A span during which one deployment was live in an environment; toTime null: it still is. */
export interface LivePeriodView {
  environment: string;
  deploymentId: string;
  model: string;
  version: number;
  sha256: string;
  fromTime: number;
  toTime: number | null;
  deployedBy: string;
}

interface EnvironmentRow {
  name: string;
  target_kind: 'webhook' | 'command';
  target_url: string | null;
  target_argv: string | null;
  timeout_ms: number;
  max_attempts: number | null;
  health_url: string | null;
  created_at: number;
  created_by: string;
}
interface DeploymentRow {
  id: string;
  environment: string;
  model: string;
  version: number;
  sha256: string;
  artifact_path: string;
  reason: string;
  rollback_of: string | null;
  restores: string | null;
  rolled_back_by: string | null;
  status: DeploymentStatus;
  error: string | null;
  requested_at: number;
  requested_by: string;
  started_at: number | null;
  finished_at: number | null;
}
interface PeriodRow {
  environment: string;
  deployment_id: string;
  model: string;
  version: number;
  sha256: string;
  from_time: number;
  to_time: number | null;
  deployed_by: string;
}

const toEnvironment = (r: EnvironmentRow): EnvironmentView => ({
  name: r.name,
  targetKind: r.target_kind,
  targetUrl: r.target_url,
  targetArgv: r.target_argv === null ? null : (JSON.parse(r.target_argv) as string[]),
  timeoutMs: r.timeout_ms,
  maxAttempts: r.max_attempts,
  healthCheckUrl: r.health_url,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

const toDeployment = (r: DeploymentRow): DeploymentView => ({
  id: r.id,
  environment: r.environment,
  model: r.model,
  version: r.version,
  sha256: r.sha256,
  artifactPath: r.artifact_path,
  reason: r.reason,
  rollbackOf: r.rollback_of,
  restores: r.restores,
  rolledBackBy: r.rolled_back_by,
  status: r.status,
  error: r.error,
  requestedAt: r.requested_at,
  requestedBy: r.requested_by,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

const toPeriod = (r: PeriodRow): LivePeriodView => ({
  environment: r.environment,
  deploymentId: r.deployment_id,
  model: r.model,
  version: r.version,
  sha256: r.sha256,
  fromTime: r.from_time,
  toTime: r.to_time,
  deployedBy: r.deployed_by,
});

export function deploymentQueries(db: SqliteDatabase) {
  const environments = db.prepare<[], EnvironmentRow>('SELECT * FROM rm_environments ORDER BY name');
  const environment = db.prepare<[string], EnvironmentRow>('SELECT * FROM rm_environments WHERE name = ?');
  const page = db.prepare<[string, number, number], DeploymentRow>(
    'SELECT * FROM rm_deployments WHERE environment = ? ORDER BY position DESC LIMIT ? OFFSET ?',
  );
  const byId = db.prepare<[string], DeploymentRow>('SELECT * FROM rm_deployments WHERE id = ?');
  const unfinished = db.prepare<[], DeploymentRow>("SELECT * FROM rm_deployments WHERE status IN ('requested', 'started') ORDER BY position");
  const attempts = db.prepare<[string], { deployment_id: string; attempt: number; phase: 'deploy' | 'health_check'; status_code: number | null; exit_code: number | null; duration_ms: number; error: string | null; output: string; at: number }>(
    'SELECT * FROM rm_deployment_attempts WHERE deployment_id = ? ORDER BY position',
  );
  const liveAt = db.prepare<[string, number, number], PeriodRow>(
    'SELECT * FROM rm_environment_history WHERE environment = ? AND from_time <= ? AND (to_time IS NULL OR to_time > ?) ORDER BY from_position DESC LIMIT 1',
  );
  const history = db.prepare<[string], PeriodRow>('SELECT * FROM rm_environment_history WHERE environment = ? ORDER BY from_position');
  const deployedIn = db.prepare<[string, number, string, number], { environment: string }>(
    `SELECT environment FROM rm_environment_history WHERE model = ? AND version = ? AND to_time IS NULL
     UNION SELECT environment FROM rm_deployments WHERE model = ? AND version = ? AND status IN ('requested', 'started')
     ORDER BY environment`,
  );
  return {
    environments: () => environments.all().map(toEnvironment),
    environment: (name: string): EnvironmentView | null => {
      const r = environment.get(name);
      return r ? toEnvironment(r) : null;
    },
    list(env: string, args: PageArgs): Page<DeploymentView> {
      const { offset, limit } = decodePage(`deployments:${env}`, args);
      return toPage(`deployments:${env}`, page.all(env, limit + 1, offset).map(toDeployment), offset, limit);
    },
    get: (id: string): DeploymentView | null => {
      const r = byId.get(id);
      return r ? toDeployment(r) : null;
    },
    /** Deployments the executor has not finished, oldest first. */
    unfinished: () => unfinished.all().map(toDeployment),
    attempts: (deploymentId: string): DeploymentAttemptView[] =>
      attempts.all(deploymentId).map((r) => ({
        deploymentId: r.deployment_id,
        attempt: r.attempt,
        phase: r.phase,
        statusCode: r.status_code,
        exitCode: r.exit_code,
        durationMs: r.duration_ms,
        error: r.error,
        output: r.output,
        at: r.at,
      })),
    /** The deployment live in `env` at `at` (ms), or null if nothing was. */
    deployedAt: (env: string, at: number): LivePeriodView | null => {
      const r = liveAt.get(env, at, at);
      return r ? toPeriod(r) : null;
    },
    history: (env: string) => history.all(env).map(toPeriod),
    /** Environments serving this version, or being deployed to with it. */
    deployedIn: (model: string, version: number): string[] => deployedIn.all(model, version, model, version).map((r) => r.environment),
  };
}
