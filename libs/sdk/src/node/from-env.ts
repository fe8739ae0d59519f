import type { ChronicleClient, StartRunOptions } from '../client.js';
import type { ActiveRun } from '../active-run.js';
import { captureRunContext, type CaptureOptions } from './run-context.js';

/** What `chronicle reproduce --execute` sets for the command it runs (docs/audit.md). */
export const RUN_ENV = {
  runId: 'CHRONICLE_RUN_ID',
  params: 'CHRONICLE_PARAMS',
  dataDir: 'CHRONICLE_DATA_DIR',
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/** The params a reproduction hands its command: CHRONICLE_PARAMS, a JSON object of strings; {} when unset. */
export function paramsFromEnv(env: Env): Record<string, string> {
  const raw = env[RUN_ENV.params];
  if (raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new TypeError(`${RUN_ENV.params} is not JSON: ${raw.slice(0, 80)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string'))
    throw new TypeError(`${RUN_ENV.params} must be a JSON object of strings`);
  return parsed as Record<string, string>;
}

/**
 * Starts a run the reproducible way. Under `chronicle reproduce --execute` (CHRONICLE_RUN_ID
 * set) it logs to the run prepared there, already linked to the original; otherwise it starts
 * a new run that records its git state, command line, runtime and lockfile hash.
 * `env` is passed in (usually process.env) so the library itself never reads the environment.
 */
export async function startRunFromEnv(
  client: ChronicleClient,
  opts: StartRunOptions & { capture?: CaptureOptions | false },
  env: Env,
): Promise<ActiveRun> {
  const { capture, ...start } = opts;
  const prepared = env[RUN_ENV.runId];
  if (prepared) {
    const run = await client.resumeRun(prepared, {
      ...(start.flushIntervalMs !== undefined ? { flushIntervalMs: start.flushIntervalMs } : {}),
      ...(start.maxBatchPoints !== undefined ? { maxBatchPoints: start.maxBatchPoints } : {}),
      ...(start.onFlushError !== undefined ? { onFlushError: start.onFlushError } : {}),
      ...(start.now !== undefined ? { now: start.now } : {}),
    });
    // The same params again are a no-op; a different value is refused: the reproduction diverged.
    if (start.params !== undefined) await run.logParams(start.params);
    return run;
  }
  const context = capture === false ? null : await captureRunContext(capture ?? {});
  return client.startRun({
    ...start,
    ...(start.source ?? context ? { source: start.source ?? context!.source } : {}),
    ...(context || start.environment ? { environment: { ...context?.environment, ...start.environment } } : {}),
  });
}
