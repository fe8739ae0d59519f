import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { integer } from '../args.js';
import { CliError, contextOf, type GlobalOptions } from '../context.js';
import { toJson, type Io } from '../output.js';
import { executeRecipe } from '../reproduce/execute.js';
import { Phases } from '../reproduce/phases.js';
import { renderComparison } from '../reproduce/render-comparison.js';

function nonNegative(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number, 0 or more (e.g. 1e-6).');
  return n;
}

/** A position is a whole number; anything else must parse as a date, checked here so a typo is a usage error. */
function asOf(raw: string): string {
  if (/^\d+$/.test(raw.trim()) || !Number.isNaN(Date.parse(raw))) return raw.trim();
  throw new InvalidArgumentError('expected a log position (a whole number) or an ISO 8601 date/time, e.g. 2026-11-27T09:00:00Z.');
}

interface ReproduceOptions {
  asOf?: string;
  out?: string;
  execute?: boolean;
  workdir?: string;
  codeDir?: string;
  allowCodeMismatch?: boolean;
  experiment?: string;
  tolerance: number;
  absTolerance: number;
  jobs: number;
}

export function registerReproduce(program: Command, io: Io): void {
  program
    .command('reproduce <run>')
    .description("print how to reproduce a run (code, command, params, data, environment, seed); --execute re-runs it and compares metrics")
    .addOption(new Option('--as-of <position|time>', 'build the recipe from the log as it was then: a global position or an ISO 8601 time').argParser(asOf))
    .option('-o, --out <file>', 'also write the recipe to a file: JSON if it ends in .json, Markdown otherwise')
    .option('--execute', 'check the data out, run the recorded command as a new run linked to this one, compare metrics')
    .option('--workdir <dir>', 'with --execute: where the data is checked out (default: a new temporary directory)')
    .option('--code-dir <dir>', 'with --execute: a git checkout of the run’s code (default: the current directory)')
    .option('--allow-code-mismatch', 'with --execute: run even if the checkout is not at the recorded commit and changes')
    .option('-e, --experiment <id>', 'with --execute: the experiment of the new run (default: the original’s)')
    .addOption(new Option('--tolerance <rel>', 'with --execute: relative difference under which two values count as equal').argParser(nonNegative).default(1e-9))
    .addOption(new Option('--abs-tolerance <abs>', 'with --execute: absolute difference under which two values count as equal').argParser(nonNegative).default(0))
    .addOption(new Option('-j, --jobs <n>', 'parallel downloads').argParser(integer({ min: 1, max: 64 })).default(8))
    .addHelpText(
      'after',
      `
The recipe is read from the event log: the run's source (git repository, commit, branch,
uncommitted diff), its command line, params, the dataset versions it declared as inputs (with
the \`chronicle data checkout\` commands), its environment (runtimes, lockfile hashes), its seed
(the param or tag named seed, random_seed, random_state or rng_seed) and its final metrics.

With --execute, the command runs in the run's working directory inside --code-dir, with:
  CHRONICLE_RUN_ID            the new run, already linked to the original; log to it
  CHRONICLE_PARAMS            the original's params, as a JSON object of strings
  CHRONICLE_DATA_DIR          the checked-out data: one directory per dataset
  CHRONICLE_REPRODUCTION_OF   the original run's id
  CHRONICLE_URL, CHRONICLE_TOKEN   this CLI's server and token
Scripts using the TS SDK get all of this from startRunFromEnv (@chronicle/sdk/node).
It exits 1 if the command fails or a metric differs beyond the tolerance.

Examples:
  $ chronicle reproduce 8f3a… --out recipe.md
  $ chronicle reproduce 8f3a… --as-of 2026-11-01T00:00:00Z --json
  $ chronicle reproduce 8f3a… --execute --code-dir ~/src/churn --tolerance 1e-6`,
    )
    .action(async (runId: string, opts: ReproduceOptions, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const { recipe, markdown } = await ctx.client.audit.reproductionRecipe(runId, opts.asOf !== undefined ? { asOf: opts.asOf } : {});
      if (opts.out) {
        await writeFile(opts.out, opts.out.toLowerCase().endsWith('.json') ? `${toJson(recipe)}\n` : markdown);
        io.err(`wrote the recipe to ${opts.out}\n`);
      }
      if (!opts.execute) return ctx.emit(recipe, () => markdown);

      if (!ctx.json) io.out(markdown);
      const phases = new Phases(io);
      for (const m of recipe.missing) phases.note(`! ${m}`);
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const workdir = opts.workdir ?? mkdtempSync(join(tmpdir(), `chronicle-reproduce-${runId.slice(0, 12)}-`));
      const result = await executeRecipe(
        ctx.client,
        recipe,
        {
          workdir,
          codeDir: opts.codeDir ?? process.cwd(),
          allowCodeMismatch: Boolean(opts.allowCodeMismatch),
          ...(opts.experiment ? { experimentId: opts.experiment } : {}),
          jobs: opts.jobs,
          tolerance: { relative: opts.tolerance, absolute: opts.absTolerance },
          url: g.url,
          ...(g.token ? { token: g.token } : {}),
          env: process.env,
        },
        phases,
        io,
      );
      ctx.emit({ recipe, result }, () => {
        const verdict = result.reproduced
          ? `reproduced: run ${result.reproductionRunId} matches run ${result.originalRunId} on every metric`
          : `NOT reproduced: run ${result.reproductionRunId} differs from run ${result.originalRunId}`;
        return `\n${renderComparison(result.comparison)}${verdict} (tolerance rel ${opts.tolerance}, abs ${opts.absTolerance})\n`;
      });
      if (!result.reproduced)
        throw new CliError(
          result.comparison.length === 0
            ? 'neither run logged a metric, so the reproduction cannot be checked'
            : `${result.comparison.filter((r) => !r.equal).length} metric(s) differ beyond the tolerance`,
          'METRICS_DIFFER',
        );
    });
}
