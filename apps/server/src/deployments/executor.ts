import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobStore } from '@chronicle/blobs';
import type { Commands, CommandContext } from '@chronicle/commands';
import {
  environmentDecider,
  environmentStream,
  isChronicleError,
  type DeploymentAttempt,
  type DeploymentRequested,
  type HealthCheck,
  type Principal,
} from '@chronicle/domain';
import { loadState, type EventStore } from '@chronicle/event-store';
import type { ReadModels } from '@chronicle/projections';
import type { Logger } from 'pino';
import { commandTargetRunner } from './command-target.js';
import type { DeploymentJob, TargetContext, TargetOutcome } from './target.js';
import { webhookTargetRunner } from './webhook-target.js';

export interface ExecutorOptions {
  store: EventStore;
  read: ReadModels;
  commands: Commands;
  blobs: BlobStore;
  /** Where artifacts are materialised for command targets, one folder per deployment. */
  workDir: string;
  baseEnv: Record<string, string | undefined>;
  backoffMs: number;
  clock: () => number;
  logger: Logger;
}

export interface DeploymentExecutor {
  /** Aborts running targets; their deployments stay "started" and are failed explicitly on the next start. */
  stop(): Promise<void>;
}

const deployer: Principal = { username: 'deployer', role: 'admin', via: { kind: 'system' } };
const INTERRUPTED = 'interrupted: the server stopped while this deployment was running';
const HEALTH_POLL_MS = 250;

/**
 * Performs requested deployments through their environment's target. It follows the log for
 * DeploymentRequested; on start it takes up what the log says is unfinished, so a restart
 * resumes requested deployments and fails (then rolls back) the ones cut off mid-way.
 */
export async function startDeploymentExecutor(opts: ExecutorOptions): Promise<DeploymentExecutor> {
  const { store, read, commands, logger, clock } = opts;
  const ctx = (causationId: string): CommandContext => ({ principal: deployer, causationId });
  const shutdown = new AbortController();
  const running = new Map<string, Promise<void>>();
  const runners = { webhook: webhookTargetRunner({ backoffMs: opts.backoffMs }), command: commandTargetRunner({ baseEnv: opts.baseEnv }) };
  let position = await store.headPosition();

  async function materialise(job: DeploymentJob): Promise<string> {
    const dir = join(opts.workDir, job.deploymentId);
    await mkdir(dir, { recursive: true });
    const file = join(dir, basename(job.artifactPath) || 'artifact');
    // verify: a corrupt blob fails the deployment instead of being deployed.
    await pipeline(await opts.blobs.get(job.sha256, { verify: true }), createWriteStream(`${file}.part`));
    await rename(`${file}.part`, file);
    return file;
  }

  async function healthCheck(check: HealthCheck, record: (a: DeploymentAttempt) => Promise<void>): Promise<TargetOutcome> {
    const started = performance.now();
    const deadline = clock() + check.timeoutMs;
    let last = { statusCode: null as number | null, error: 'no answer' };
    let attempt = 0;
    while (clock() < deadline && !shutdown.signal.aborted) {
      attempt++;
      try {
        const res = await fetch(check.url, { signal: AbortSignal.timeout(Math.max(1, deadline - clock())) });
        await res.body?.cancel();
        last = { statusCode: res.status, error: res.ok ? '' : `HTTP ${res.status}` };
        if (res.ok) break;
      } catch (e) {
        last = { statusCode: null, error: e instanceof Error ? e.message : String(e) };
      }
      await sleep(HEALTH_POLL_MS);
    }
    const ok = last.error === '';
    await record({ attempt, phase: 'health_check', statusCode: last.statusCode, exitCode: null, durationMs: Math.round(performance.now() - started), error: ok ? null : last.error, output: '' });
    return ok ? { outcome: 'succeeded', error: null } : { outcome: 'failed', error: `health check ${check.url} failed: ${last.error}` };
  }

  async function finish(env: string, id: string, result: TargetOutcome) {
    await commands.deployments.executor.finish(ctx(id), env, id, result.outcome, result.error);
    logger.info({ environment: env, deploymentId: id, ...result }, 'deployment finished');
    if (result.outcome !== 'succeeded') {
      const rb = await commands.deployments.executor.rollbackAfterFailure(ctx(id), env, id);
      if (rb.deploymentId) logger.warn({ environment: env, failed: id, rollback: rb.deploymentId }, 'rolling back automatically');
    }
  }

  async function perform(env: string, id: string, requested: { reason: string; requestedBy: string }): Promise<void> {
    const { state } = await loadState(store, environmentStream(env), environmentDecider);
    const deployment = state.deployments.find((d) => d.id === id);
    if (!state.target || !deployment) return;
    try {
      await commands.deployments.executor.start(ctx(id), env, id);
    } catch (e) {
      // Another pass already took it (or it finished): each step happens once.
      if (isChronicleError(e)) return;
      throw e;
    }
    const job: DeploymentJob = {
      model: deployment.model,
      version: deployment.version,
      sha256: deployment.sha256,
      artifactPath: deployment.artifactPath,
      rollbackOf: deployment.rollbackOf,
      deploymentId: id,
      environment: env,
      ...requested,
    };
    const record = (a: DeploymentAttempt) => commands.deployments.executor.recordAttempt(ctx(id), env, id, a).then(() => undefined);
    const target = state.target;
    const tctx: TargetContext = {
      job,
      artifactFile: () => materialise(job),
      deadline: clock() + target.timeoutMs,
      clock,
      signal: shutdown.signal,
      onAttempt: record,
    };
    let result: TargetOutcome;
    try {
      result = target.kind === 'webhook' ? await runners.webhook.run(target, tctx) : await runners.command.run(target, tctx);
    } catch (e) {
      result = { outcome: 'failed', error: e instanceof Error ? e.message : String(e) };
    } finally {
      await rm(join(opts.workDir, id), { recursive: true, force: true });
    }
    // Left "started": the next start fails it explicitly.
    if (shutdown.signal.aborted) return;
    if (result.outcome === 'succeeded' && state.healthCheck) result = await healthCheck(state.healthCheck, record);
    if (shutdown.signal.aborted) return;
    await finish(env, id, result);
  }

  function launch(env: string, id: string, requested: { reason: string; requestedBy: string }) {
    if (running.has(id) || shutdown.signal.aborted) return;
    const p = perform(env, id, requested)
      .catch((e) => logger.error({ err: e, environment: env, deploymentId: id }, 'deployment executor failed'))
      .finally(() => running.delete(id));
    running.set(id, p);
  }

  let pumping: Promise<void> = Promise.resolve();
  const pump = () => {
    pumping = pumping.then(async () => {
      for (;;) {
        const events = await store.readAll({ after: position, limit: 500 });
        if (events.length === 0) return;
        for (const e of events) {
          position = e.position;
          if (e.type === 'DeploymentRequested') {
            const d = (e as unknown as DeploymentRequested).data;
            launch(d.environment, d.deploymentId, { reason: d.reason, requestedBy: e.actor });
          }
        }
      }
    }).catch((e) => logger.error({ err: e }, 'deployment executor could not read the log'));
  };

  for (const d of read.deployments.unfinished()) {
    if (d.status === 'started') {
      logger.warn({ environment: d.environment, deploymentId: d.id }, 'failing a deployment interrupted by a restart');
      await finish(d.environment, d.id, { outcome: 'failed', error: INTERRUPTED }).catch((e) => logger.error({ err: e }, 'could not fail interrupted deployment'));
    } else launch(d.environment, d.id, { reason: d.reason, requestedBy: d.requestedBy });
  }
  const unsubscribe = store.onAppended(pump);
  pump();

  return {
    async stop() {
      unsubscribe();
      shutdown.abort();
      await pumping;
      await Promise.allSettled([...running.values()]);
    },
  };
}
