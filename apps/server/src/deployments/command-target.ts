import { spawn } from 'node:child_process';
import type { CommandTarget } from '@chronicle/domain';
import type { TargetContext, TargetOutcome, TargetRunner } from './target.js';

const OUTPUT_TAIL = 4096;

/**
 * Runs the environment's program (argv, no shell) with the version in its environment; exit
 * code 0 means deployed. It runs in its own process group so a timeout kills what it started too.
 */
export function commandTargetRunner(opts: { baseEnv: Record<string, string | undefined> }): TargetRunner<CommandTarget> {
  return {
    async run(target: CommandTarget, ctx: TargetContext): Promise<TargetOutcome> {
      const { job } = ctx;
      const artifactPath = await ctx.artifactFile();
      // A shutdown that came while the artifact was being prepared: nothing is started, so
      // nothing can outlive the server.
      if (ctx.signal.aborted) return { outcome: 'failed', error: 'interrupted by server shutdown' };
      const started = performance.now();
      let output = '';
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
      };
      const child = spawn(target.argv[0]!, target.argv.slice(1), {
        env: {
          ...opts.baseEnv,
          CHRONICLE_MODEL: job.model,
          CHRONICLE_MODEL_VERSION: String(job.version),
          CHRONICLE_ARTIFACT_PATH: artifactPath,
          CHRONICLE_ARTIFACT_SHA256: job.sha256,
          CHRONICLE_ENVIRONMENT: job.environment,
          CHRONICLE_DEPLOYMENT_ID: job.deploymentId,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      let killedFor: 'timeout' | 'shutdown' | null = null;
      const kill = (why: 'timeout' | 'shutdown') => {
        killedFor ??= why;
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = setTimeout(() => kill('timeout'), Math.max(0, ctx.deadline - ctx.clock()));
      const onAbort = () => kill('shutdown');
      ctx.signal.addEventListener('abort', onAbort);
      if (ctx.signal.aborted) onAbort(); // an abort listener added too late is never called
      const result = await new Promise<{ code: number | null; error: string | null }>((resolve) => {
        child.once('error', (e) => resolve({ code: null, error: e.message }));
        child.once('close', (code, signal) => resolve({ code, error: code === 0 ? null : signal ? `killed by ${signal}` : `exit code ${code}` }));
      });
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      const durationMs = Math.round(performance.now() - started);
      const error = killedFor === 'timeout' ? `timed out after ${target.timeoutMs} ms` : result.error;
      if (killedFor === 'shutdown') return { outcome: 'failed', error: 'interrupted by server shutdown' };
      await ctx.onAttempt({ attempt: 1, phase: 'deploy', statusCode: null, exitCode: result.code, durationMs, error, output });
      if (killedFor === 'timeout') return { outcome: 'timed_out', error: `${target.argv[0]} did not finish within ${target.timeoutMs} ms` };
      if (result.code === 0) return { outcome: 'succeeded', error: null };
      return { outcome: 'failed', error: `${target.argv[0]} failed: ${result.error}` };
    },
  };
}
