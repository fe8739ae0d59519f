import type { EnvironmentEvent, RecordedEvent } from '@chronicle/domain';
import type { ProjectionDefinition } from '../runner/projection.js';

const ENVIRONMENT_EVENTS = new Set<string>([
  'EnvironmentCreated',
  'DeploymentRequested',
  'DeploymentStarted',
  'DeploymentAttemptRecorded',
  'DeploymentSucceeded',
  'DeploymentFailed',
]);

/**
 * Environments, their deployments with every attempt, and which deployment was live in each
 * environment when: the periods answer "what ran in production at 14:05, and who put it there".
 * Target secrets are never copied here.
 */
export const deploymentsProjection: ProjectionDefinition = {
  name: 'deployments.v1',
  tables: ['rm_environments', 'rm_deployments', 'rm_deployment_attempts', 'rm_environment_history'],
  open(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS rm_environments (
        name TEXT PRIMARY KEY, target_kind TEXT NOT NULL, target_url TEXT, target_argv TEXT, timeout_ms INTEGER NOT NULL,
        max_attempts INTEGER, health_url TEXT, created_at INTEGER NOT NULL, created_by TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_deployments (
        id TEXT PRIMARY KEY, environment TEXT NOT NULL, position INTEGER NOT NULL, model TEXT NOT NULL, version INTEGER NOT NULL,
        sha256 TEXT NOT NULL, artifact_path TEXT NOT NULL, reason TEXT NOT NULL, rollback_of TEXT, restores TEXT, rolled_back_by TEXT,
        status TEXT NOT NULL, error TEXT, requested_at INTEGER NOT NULL, requested_by TEXT NOT NULL, started_at INTEGER, finished_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rm_deployments_environment ON rm_deployments (environment, position);
      CREATE INDEX IF NOT EXISTS rm_deployments_version ON rm_deployments (model, version, status);
      CREATE TABLE IF NOT EXISTS rm_deployment_attempts (
        deployment_id TEXT NOT NULL, position INTEGER NOT NULL, attempt INTEGER NOT NULL, phase TEXT NOT NULL, status_code INTEGER,
        exit_code INTEGER, duration_ms INTEGER NOT NULL, error TEXT, output TEXT NOT NULL, at INTEGER NOT NULL,
        PRIMARY KEY (deployment_id, position)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS rm_environment_history (
        environment TEXT NOT NULL, from_position INTEGER NOT NULL, deployment_id TEXT NOT NULL, model TEXT NOT NULL,
        version INTEGER NOT NULL, sha256 TEXT NOT NULL, from_time INTEGER NOT NULL, to_time INTEGER, deployed_by TEXT NOT NULL,
        PRIMARY KEY (environment, from_position)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rm_environment_history_live ON rm_environment_history (model, version, to_time);`);
    const insertEnvironment = db.prepare(
      `INSERT INTO rm_environments (name, target_kind, target_url, target_argv, timeout_ms, max_attempts, health_url, created_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertDeployment = db.prepare(
      `INSERT INTO rm_deployments (id, environment, position, model, version, sha256, artifact_path, reason, rollback_of, restores, rolled_back_by,
         status, error, requested_at, requested_by, started_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'requested', NULL, ?, ?, NULL, NULL)`,
    );
    const markStarted = db.prepare("UPDATE rm_deployments SET status = 'started', started_at = ? WHERE id = ?");
    const markFinished = db.prepare('UPDATE rm_deployments SET status = ?, error = ?, finished_at = ? WHERE id = ?');
    const markRolledBack = db.prepare(
      "UPDATE rm_deployments SET rolled_back_by = ?, status = CASE status WHEN 'succeeded' THEN 'rolled_back' ELSE status END WHERE id = ?",
    );
    const deploymentOf = db.prepare<[string], { model: string; version: number; sha256: string; requested_by: string; rollback_of: string | null }>(
      'SELECT model, version, sha256, requested_by, rollback_of FROM rm_deployments WHERE id = ?',
    );
    const insertAttempt = db.prepare(
      `INSERT INTO rm_deployment_attempts (deployment_id, position, attempt, phase, status_code, exit_code, duration_ms, error, output, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const closePeriod = db.prepare('UPDATE rm_environment_history SET to_time = ? WHERE environment = ? AND to_time IS NULL');
    const openPeriod = db.prepare(
      `INSERT INTO rm_environment_history (environment, from_position, deployment_id, model, version, sha256, from_time, to_time, deployed_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)`,
    );
    return {
      apply(e: RecordedEvent) {
        if (!ENVIRONMENT_EVENTS.has(e.type)) return;
        const ev = e as unknown as EnvironmentEvent;
        const at = e.recordedAt;
        switch (ev.type) {
          case 'EnvironmentCreated': {
            const { target: t, healthCheck } = ev.data;
            insertEnvironment.run(
              ev.data.name,
              t.kind,
              t.kind === 'webhook' ? t.url : null,
              t.kind === 'command' ? JSON.stringify(t.argv) : null,
              t.timeoutMs,
              t.kind === 'webhook' ? t.maxAttempts : null,
              healthCheck?.url ?? null,
              at,
              e.actor,
            );
            return;
          }
          case 'DeploymentRequested': {
            const d = ev.data;
            insertDeployment.run(d.deploymentId, d.environment, e.position, d.model, d.version, d.sha256, d.artifactPath, d.reason, d.rollbackOf, d.restores, at, e.actor);
            return;
          }
          case 'DeploymentStarted':
            markStarted.run(at, ev.data.deploymentId);
            return;
          case 'DeploymentAttemptRecorded': {
            const d = ev.data;
            insertAttempt.run(d.deploymentId, e.position, d.attempt, d.phase, d.statusCode, d.exitCode, d.durationMs, d.error, d.output, at);
            return;
          }
          case 'DeploymentSucceeded': {
            markFinished.run('succeeded', null, at, ev.data.deploymentId);
            const d = deploymentOf.get(ev.data.deploymentId);
            if (!d) return;
            if (d.rollback_of) markRolledBack.run(ev.data.deploymentId, d.rollback_of);
            closePeriod.run(at, ev.data.environment);
            openPeriod.run(ev.data.environment, e.position, ev.data.deploymentId, d.model, d.version, d.sha256, at, d.requested_by);
            return;
          }
          case 'DeploymentFailed':
            markFinished.run(ev.data.outcome, ev.data.error, at, ev.data.deploymentId);
            return;
        }
      },
    };
  },
};
