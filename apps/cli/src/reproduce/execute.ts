import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compareMetrics, REPRODUCE_ENV, type MetricComparison, type Tolerance } from '@chronicle/audit';
import { decodeMetricValue, type ChronicleClient, type RecipeDocument } from '@chronicle/sdk';
import { captureRunContext } from '@chronicle/sdk/node';
import { CliError } from '../context.js';
import { checkout, fetchText, parseManifestText } from '../data/checkout.js';
import { defaultCacheDir, HashCache } from '../data/hash-cache.js';
import type { Io } from '../output.js';
import { codeMismatches, readCodeState } from './code-state.js';
import type { Phases } from './phases.js';

export interface ExecuteOptions {
  /** Data is checked out under `<workdir>/data`. */
  workdir: string;
  /** A checkout of the run's code (any directory inside it). */
  codeDir: string;
  allowCodeMismatch: boolean;
  experimentId?: string;
  jobs: number;
  tolerance: Tolerance;
  /** Handed to the command, so it logs to the same server as this CLI. */
  url: string;
  token?: string;
  env: NodeJS.ProcessEnv;
}

export interface ExecutionResult {
  originalRunId: string;
  reproductionRunId: string;
  workdir: string;
  commandExitCode: number;
  codeMismatches: string[];
  comparison: MetricComparison[];
  reproduced: boolean;
}

/** Runs argv in `cwd`, streaming its output to stderr line by line; resolves to its exit code. */
function run(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  // The recorded interpreter `node` is this CLI's own Node: the recipe records the version either way.
  const [cmd, ...args] = argv[0] === 'node' ? [process.execPath, ...argv.slice(1)] : argv;
  return new Promise((done, fail) => {
    const child = spawn(cmd!, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout!, child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const l of lines) io.err(`  │ ${l}\n`);
      });
      stream.on('end', () => rest && io.err(`  │ ${rest}\n`));
    }
    child.on('error', (e) => fail(new CliError(`could not start ${argv[0]}: ${e.message}`, 'COMMAND_FAILED')));
    child.on('close', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

/**
 * `chronicle reproduce --execute`: check the code, check the data out, start a run linked to
 * the original, run the recorded command with the documented environment, then compare the
 * reproduction's latest metrics with the ones the recipe expects.
 */
export async function executeRecipe(client: ChronicleClient, recipe: RecipeDocument, opts: ExecuteOptions, phases: Phases, io: Io): Promise<ExecutionResult> {
  if (!recipe.command) throw new CliError(`run ${recipe.runId} recorded no command line, so there is nothing to execute (see the recipe's "Missing" section)`, 'NO_COMMAND');

  phases.start('checking the code');
  const codeDir = resolve(opts.codeDir);
  if (!existsSync(codeDir)) throw new CliError(`--code-dir ${codeDir} does not exist`, 'NOT_FOUND');
  const state = await readCodeState(codeDir);
  const mismatches = codeMismatches(recipe.code, state, codeDir);
  if (mismatches.length > 0 && !opts.allowCodeMismatch) {
    phases.fail('the code differs from what the run used');
    throw new CliError(`${mismatches.join('; ')} (or pass --allow-code-mismatch)`, 'CODE_MISMATCH');
  }
  const runDir = join(state.root ?? codeDir, recipe.code.workingDir);
  phases.done(
    !recipe.code.commit ? `the run recorded no commit: running the code in ${codeDir} as it is` : mismatches.length ? `code differs (${mismatches.length} issue(s)), running anyway` : `code at ${recipe.code.commit}`,
  );
  for (const m of mismatches) phases.note(`! ${m}`);

  const dataDir = join(resolve(opts.workdir), 'data');
  if (recipe.datasets.length > 0) {
    phases.start(`checking out ${recipe.datasets.length} dataset version(s)`);
    const cache = await HashCache.open(defaultCacheDir(opts.env));
    for (const [i, d] of recipe.datasets.entries()) {
      if (!d.manifestSha256) throw new CliError(`${d.versionId} is not in the dataset's history; cannot check it out`, 'NOT_FOUND');
      phases.update(`checking out ${d.versionId} (${i + 1}/${recipe.datasets.length})`);
      const manifest = parseManifestText(await fetchText(client, d.manifestSha256));
      await checkout(client, manifest, join(resolve(opts.workdir), d.checkoutDir), { cache, concurrency: opts.jobs });
    }
    await cache.save();
    phases.done(`checked out ${recipe.datasets.map((d) => d.versionId).join(', ')} into ${dataDir}`);
  }

  phases.start('starting the reproduction run');
  const context = await captureRunContext({ cwd: runDir, command: false });
  const started = await client.runs.start({
    experimentId: opts.experimentId ?? recipe.experimentId,
    name: `reproduce ${recipe.runName || recipe.runId}`,
    reproductionOf: recipe.runId,
    source: { ...context.source, command: recipe.command, ...(recipe.code.entryPoint ? { entryPoint: recipe.code.entryPoint, source: recipe.code.entryPoint } : {}) },
    environment: context.environment,
    tags: [{ key: 'chronicle.reproduction.as_of_position', value: String(recipe.asOf.position) }],
  });
  if (recipe.params.length > 0) await client.runs.logParams(started.id, recipe.params);
  phases.done(`run ${started.id} reproduces run ${recipe.runId}`);

  phases.start(`running ${recipe.commandLine}`);
  phases.pause();
  const env: NodeJS.ProcessEnv = {
    ...opts.env,
    CHRONICLE_URL: opts.url,
    ...(opts.token ? { CHRONICLE_TOKEN: opts.token } : {}),
    [REPRODUCE_ENV.runId]: started.id,
    [REPRODUCE_ENV.reproductionOf]: recipe.runId,
    [REPRODUCE_ENV.params]: JSON.stringify(Object.fromEntries(recipe.params.map((p) => [p.key, p.value]))),
    [REPRODUCE_ENV.dataDir]: dataDir,
  };
  const exitCode = await run(recipe.command, runDir, env, io);
  const after = await client.runs.get(started.id);
  if (exitCode !== 0) {
    if (after.status === 'RUNNING') await client.runs.finish(started.id, 'FAILED');
    phases.fail(`the command exited with code ${exitCode}`);
    throw new CliError(`the command exited with code ${exitCode}; run ${started.id} is marked FAILED`, 'COMMAND_FAILED');
  }
  const finished = after.status === 'RUNNING' ? await client.runs.finish(started.id, 'FINISHED') : after;
  phases.done(`the command finished; run ${started.id} is ${finished.status}`);

  const { rows, allEqual } = compareMetrics(
    recipe.expectedMetrics.map((m) => ({ key: m.key, value: decodeMetricValue(m.value) })),
    finished.metrics.map((m) => ({ key: m.key, value: m.value })),
    opts.tolerance,
  );
  return {
    originalRunId: recipe.runId,
    reproductionRunId: started.id,
    workdir: resolve(opts.workdir),
    commandExitCode: exitCode,
    codeMismatches: mismatches,
    comparison: rows,
    reproduced: allEqual,
  };
}
