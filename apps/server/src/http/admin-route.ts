import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { actorOf, NotFound, requireRole } from '@chronicle/domain';
import { allProjections, replayReadModels, type ReplayProgress, type ReplayResult } from '@chronicle/projections';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';

export interface ReplayJobView {
  id: string;
  state: 'running' | 'done' | 'failed';
  startedAt: number;
  requestedBy: string;
  progress: ReplayProgress | null;
  result: ReplayResult | null;
  error: string | null;
}

/**
 * One replay at a time: a second request while one runs gets the running job back, so a
 * retried POST never starts a second rebuild.
 */
function createReplayJobs(platform: Platform, dataDir: string, log: FastifyInstance['log']) {
  let job: ReplayJobView | null = null;
  let running: Promise<void> | null = null;
  let abort: AbortController | null = null;
  return {
    current: () => job,
    start(requestedBy: string, now: number): { job: ReplayJobView; started: boolean } {
      if (job?.state === 'running') return { job, started: false };
      const id = randomUUID();
      const view: ReplayJobView = { id, state: 'running', startedAt: now, requestedBy, progress: null, result: null, error: null };
      job = view;
      abort = new AbortController();
      running = replayReadModels({
        store: platform.store,
        replaceFile: (rebuilt) => platform.replaceReadModels(rebuilt),
        projections: allProjections,
        liveRunner: platform.runner,
        shadowPath: join(dataDir, `replay-${id}.db`),
        signal: abort.signal,
        onProgress: (p) => (view.progress = p),
      }).then(
        (result) => {
          view.result = result;
          view.state = 'done';
          log.info({ replay: id, ...result }, 'read models rebuilt from the log and swapped in');
        },
        (e: unknown) => {
          view.error = e instanceof Error ? e.message : String(e);
          view.state = 'failed';
          log.error({ err: e, replay: id }, 'replay failed; the live read models are unchanged');
        },
      );
      return { job: view, started: true };
    },
    async stop(): Promise<void> {
      abort?.abort(new Error('the server is shutting down'));
      await running;
    },
  };
}

/** Admin operations: rebuilding every read model from the log while the server keeps serving. */
export function registerAdmin(app: FastifyInstance, platform: Platform, dataDir: string, clock: () => number = Date.now): void {
  const jobs = createReplayJobs(platform, dataDir, app.log);
  app.addHook('onClose', () => jobs.stop());

  app.post('/api/v1/admin/replay', async (request, reply) => {
    requireRole(request.principal, 'admin', 'replaying the read models');
    const { job, started } = jobs.start(actorOf(request.principal), clock());
    return reply.code(started ? 202 : 200).send({ job });
  });

  app.get('/api/v1/admin/replay', async (request) => {
    requireRole(request.principal, 'admin', 'watching a replay');
    const job = jobs.current();
    if (!job) throw new NotFound('no replay has run since the server started');
    return { job };
  });
}
