import type { WebhookTarget } from '@chronicle/domain';
import { postWithRetries } from '../webhooks/delivery.js';
import type { TargetContext, TargetOutcome, TargetRunner } from './target.js';

/** POSTs the deployment as signed JSON, retrying with backoff; a 2xx answer means deployed. */
export function webhookTargetRunner(opts: { backoffMs: number }): TargetRunner<WebhookTarget> {
  return {
    async run(target: WebhookTarget, ctx: TargetContext): Promise<TargetOutcome> {
      const { job } = ctx;
      const body = JSON.stringify({
        type: 'deployment',
        deploymentId: job.deploymentId,
        environment: job.environment,
        model: job.model,
        version: job.version,
        sha256: job.sha256,
        artifactPath: job.artifactPath,
        reason: job.reason,
        rollbackOf: job.rollbackOf,
        requestedBy: job.requestedBy,
      });
      const last = await postWithRetries({
        url: target.url,
        secret: target.secret,
        body,
        deliveryId: job.deploymentId,
        maxAttempts: target.maxAttempts,
        backoffMs: opts.backoffMs,
        deadline: ctx.deadline,
        clock: ctx.clock,
        signal: ctx.signal,
        onAttempt: (a) =>
          ctx.onAttempt({
            attempt: a.attempt,
            phase: 'deploy',
            statusCode: a.statusCode,
            exitCode: null,
            durationMs: a.durationMs,
            error: a.error,
            output: a.responseSnippet,
          }),
      });
      if (last.ok) return { outcome: 'succeeded', error: null };
      if (last.timedOut) return { outcome: 'timed_out', error: `webhook ${target.url} did not answer 2xx within ${target.timeoutMs} ms (${last.error})` };
      return { outcome: 'failed', error: `webhook ${target.url} failed after ${last.attempt} attempt(s): ${last.error}` };
    },
  };
}
