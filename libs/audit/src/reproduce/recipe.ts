import { encodeMetricValue, type JsonMetricValue, type KeyValue, type RunStatus } from '@chronicle/domain';
import type { ResolvedAsOf } from '../as-of/resolve-position.js';
import type { DatasetVersionFacts } from '../facts/dataset-facts.js';
import type { DeclaredInput } from '../facts/lineage-facts.js';
import type { RunFacts } from '../facts/run-facts.js';
import { readEnvironment, type LockfileFact, type RuntimeFact } from './environment.js';
import { findSeed, SEED_KEYS, type SeedFact } from './seed.js';
import { shellLine, shellQuote } from './shell.js';

export const RECIPE_SCHEMA = 'chronicle.reproduction-recipe/v1';

/**
 * What `chronicle reproduce --execute` hands the command it runs. A script that follows the
 * convention reads its data under CHRONICLE_DATA_DIR/<dataset>, its params from
 * CHRONICLE_PARAMS (a JSON object of strings) and logs to the run named by CHRONICLE_RUN_ID.
 */
export const REPRODUCE_ENV = {
  runId: 'CHRONICLE_RUN_ID',
  params: 'CHRONICLE_PARAMS',
  dataDir: 'CHRONICLE_DATA_DIR',
  reproductionOf: 'CHRONICLE_REPRODUCTION_OF',
} as const;

export interface RecipeCode {
  repository: string | null;
  commit: string | null;
  branch: string | null;
  /** null: the run did not say whether its tree was clean. */
  dirty: boolean | null;
  diff: string | null;
  diffSha256: string | null;
  source: string | null;
  entryPoint: string | null;
  /** Relative to the repository root; '' is the root. */
  workingDir: string;
}

export interface RecipeDataset {
  dataset: string;
  version: number;
  versionId: string;
  role: string;
  /** Content address of the version's manifest; null if the version is not in the dataset's history. */
  manifestSha256: string | null;
  fileCount: number | null;
  totalBytes: number | null;
  deprecated: boolean;
  deprecationReason: string | null;
  /** Where the data goes, relative to the reproduction's work directory. */
  checkoutDir: string;
  checkoutCommand: string;
}

export interface RecipeMetric {
  key: string;
  value: JsonMetricValue;
  step: number;
  timestamp: number;
}

export interface ReproductionRecipe {
  schema: typeof RECIPE_SCHEMA;
  runId: string;
  runName: string;
  experimentId: string;
  status: RunStatus;
  startedBy: string;
  startTime: number;
  endTime: number | null;
  /** The state the recipe describes: the log up to `position`. `latest` when that is the head. */
  asOf: { position: number; recordedAt: number | null; head: number; latest: boolean };
  reproductionOf: string | null;
  code: RecipeCode;
  /** The argv that ran, interpreter first; null when none was recorded. */
  command: string[] | null;
  commandLine: string | null;
  params: KeyValue[];
  seed: SeedFact | null;
  datasets: RecipeDataset[];
  environment: { runtimes: RuntimeFact[]; lockfiles: LockfileFact[]; recorded: Record<string, unknown> };
  /** The run's latest value of every metric at `asOf`: what a reproduction should match. */
  expectedMetrics: RecipeMetric[];
  /** What the recipe cannot say, one sentence each; empty when nothing is missing. */
  missing: string[];
  /** Shell lines that reproduce the run by hand, from an empty directory. */
  steps: string[];
}

export interface RecipeFacts {
  run: RunFacts;
  inputs: readonly DeclaredInput[];
  /** The versions of every dataset the run declared, by dataset name, as of the same position. */
  datasets: ReadonlyMap<string, ReadonlyMap<number, DatasetVersionFacts>>;
  asOf: ResolvedAsOf;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function recipeDatasets(facts: RecipeFacts): RecipeDataset[] {
  // One directory per dataset, unless the run read two versions of it (train@1, test@2).
  const versionsOf = new Map<string, Set<number>>();
  for (const i of facts.inputs) (versionsOf.get(i.datasetName) ?? versionsOf.set(i.datasetName, new Set()).get(i.datasetName)!).add(i.versionNumber);
  const seen = new Set<string>();
  const out: RecipeDataset[] = [];
  for (const i of facts.inputs) {
    const key = `${i.versionId}|${i.role}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const v = facts.datasets.get(i.datasetName)?.get(i.versionNumber) ?? null;
    const checkoutDir = `data/${versionsOf.get(i.datasetName)!.size > 1 ? i.versionId : i.datasetName}`;
    out.push({
      dataset: i.datasetName,
      version: i.versionNumber,
      versionId: i.versionId,
      role: i.role,
      manifestSha256: v?.manifestSha256 ?? null,
      fileCount: v?.fileCount ?? null,
      totalBytes: v?.totalBytes ?? null,
      deprecated: v?.deprecated ?? false,
      deprecationReason: v?.deprecationReason ?? null,
      checkoutDir,
      checkoutCommand: shellLine(['chronicle', 'data', 'checkout', i.versionId, checkoutDir]),
    });
  }
  return out;
}

function whatIsMissing(r: Omit<ReproductionRecipe, 'missing' | 'steps'>): string[] {
  const missing: string[] = [];
  const c = r.code;
  if (!c.repository && !c.commit) missing.push('code: the run recorded neither a git repository nor a commit, so the code that ran is unknown');
  else if (!c.commit) missing.push('code: the run recorded a repository but no commit');
  else if (!c.repository) missing.push('code: the run recorded a commit but no repository URL; check it out in your own clone');
  if (c.dirty && !c.diff)
    missing.push(
      c.diffSha256
        ? 'code: the working tree had uncommitted changes too large to record; only their SHA-256 is known'
        : 'code: the working tree had uncommitted changes that were not recorded',
    );
  if (c.dirty === null && c.commit) missing.push('code: the run did not record whether its working tree had uncommitted changes');
  if (!r.command) missing.push('command: no command line was recorded, so --execute cannot run it');
  if (r.datasets.length === 0) missing.push('data: the run declared no dataset inputs; if it read data, that data was not versioned');
  for (const d of r.datasets) {
    if (d.manifestSha256 === null) missing.push(`data: ${d.versionId} is not in the history of dataset ${d.dataset}`);
    else if (d.deprecated) missing.push(`data: ${d.versionId} is deprecated (${d.deprecationReason ?? 'no reason given'}); a new run may not declare it as an input`);
  }
  if (r.environment.runtimes.length === 0) missing.push('environment: no language runtime version was recorded');
  if (r.environment.lockfiles.length === 0) missing.push('environment: no lockfile hash was recorded, so dependency versions are unknown');
  if (!r.seed) missing.push(`seed: no param or tag named ${SEED_KEYS.join(', ')} was logged; if the run used randomness, it may not reproduce`);
  if (r.status === 'RUNNING') missing.push('status: the run was still running at this point; its metrics may be partial');
  return missing;
}

function recipeSteps(r: Omit<ReproductionRecipe, 'missing' | 'steps'>): string[] {
  const steps = [`# or let Chronicle do all of this: chronicle reproduce ${shellQuote(r.runId)} --execute`];
  for (const d of r.datasets) steps.push(d.checkoutCommand);
  steps.push(`export ${REPRODUCE_ENV.dataDir}="$PWD/data"`);
  const c = r.code;
  if (c.repository) steps.push(shellLine(['git', 'clone', c.repository, 'code']), 'cd code');
  else steps.push('cd <your clone of the code>');
  if (c.commit) steps.push(shellLine(['git', 'checkout', c.commit]));
  if (c.diff) steps.push(`git apply run.diff   # run.diff: the recipe's code.diff`);
  if (c.workingDir) steps.push(shellLine(['cd', c.workingDir]));
  const params = JSON.stringify(Object.fromEntries(r.params.map((p) => [p.key, p.value])));
  steps.push(`${REPRODUCE_ENV.params}=${shellQuote(params)} ${r.commandLine ?? '<the command that ran: not recorded>'}`);
  return steps;
}

/** The recipe for one run, from facts folded out of the log at one position. Pure. */
export function buildRecipe(facts: RecipeFacts): ReproductionRecipe {
  const { run } = facts;
  const s = run.source;
  const env = readEnvironment(run.environment);
  const command = Array.isArray(s.command) && s.command.length > 0 ? [...s.command] : null;
  const partial: Omit<ReproductionRecipe, 'missing' | 'steps'> = {
    schema: RECIPE_SCHEMA,
    runId: run.runId,
    runName: run.name,
    experimentId: run.experimentId,
    status: run.status,
    startedBy: run.startedBy,
    startTime: run.startTime,
    endTime: run.endTime,
    asOf: { position: facts.asOf.position, recordedAt: facts.asOf.recordedAt, head: facts.asOf.head, latest: facts.asOf.position === facts.asOf.head },
    reproductionOf: run.reproductionOf,
    code: {
      repository: str(s.gitRepo),
      commit: str(s.gitCommit),
      branch: str(s.gitBranch),
      dirty: typeof s.gitDirty === 'boolean' ? s.gitDirty : null,
      diff: str(s.gitDiff),
      diffSha256: str(s.gitDiffSha256),
      source: str(s.source),
      entryPoint: str(s.entryPoint),
      workingDir: str(s.workingDir) ?? '',
    },
    command,
    commandLine: command ? shellLine(command) : null,
    params: run.params,
    seed: findSeed(run.params, run.tags),
    datasets: recipeDatasets(facts),
    environment: { ...env, recorded: run.environment },
    expectedMetrics: run.metrics.map((m) => ({ key: m.key, value: encodeMetricValue(m.value), step: m.step, timestamp: m.timestamp })),
  };
  return { ...partial, missing: whatIsMissing(partial), steps: recipeSteps(partial) };
}
