import type { RecordedEvent } from '@chronicle/domain';
import { describe, expect, it } from 'vitest';
import { foldDatasetVersions } from '../facts/dataset-facts.js';
import { foldRunInputs } from '../facts/lineage-facts.js';
import { foldRunFacts } from '../facts/run-facts.js';
import { readEnvironment } from './environment.js';
import { buildRecipe, type RecipeFacts } from './recipe.js';
import { renderRecipeMarkdown } from './render-recipe.js';
import { findSeed } from './seed.js';
import { shellLine } from './shell.js';

let position = 0;
const ev = (stream: string, type: string, data: Record<string, unknown>, actor = 'user:ada'): RecordedEvent =>
  ({ id: `e${++position}`, type, schemaVersion: 1, stream, revision: 0, position, recordedAt: 1000 + position, actor, correlationId: 'c', causationId: null, data, hash: '' }) as RecordedEvent;

const source = {
  gitRepo: 'https://example.com/ml.git',
  gitCommit: 'abc123',
  gitBranch: 'main',
  gitDirty: true,
  gitDiff: 'diff --git a/train.mjs b/train.mjs\n+// ```tweak\n',
  gitDiffSha256: 'f'.repeat(64),
  entryPoint: 'toy/train.mjs',
  workingDir: 'toy',
  command: ['node', 'train.mjs', '--epochs=3', 'it has spaces'],
};
const runEvents = [
  ev('run-r1', 'RunStarted', {
    runId: 'r1', experimentId: '0', name: 'toy', tags: [{ key: 'team', value: 'ml' }], parentRunId: null, source,
    environment: { runtime: { node: 'v20.11.0' }, platform: 'linux', lockfiles: [{ path: 'package-lock.json', sha256: 'a'.repeat(64) }] }, startTime: 5,
  }),
  ev('run-r1', 'RunParamsLogged', { runId: 'r1', params: [{ key: 'seed', value: '7' }, { key: 'lr', value: '0.1' }] }),
  ev('run-r1', 'RunMetricsLogged', { runId: 'r1', series: [{ key: 'loss', steps: [0, 1, 1], values: [0.9, 0.5, 0.4], timestamps: [1, 2, 2] }, { key: 'acc', steps: [0], values: ['NaN'], timestamps: [1] }] }),
  ev('run-r1', 'RunMetricsLogged', { runId: 'r1', series: [{ key: 'loss', steps: [0], values: [0.1], timestamps: [9] }] }),
  ev('run-r1', 'SomethingNewerThanThisBuild', { runId: 'r1' }),
  ev('run-r1', 'RunFinished', { runId: 'r1', status: 'FINISHED', endTime: 50 }),
];
const datasetEvents = [
  ev('dataset-points', 'DatasetCreated', { name: 'points', description: '', at: 1 }),
  ev('dataset-points', 'DatasetVersionCommitted', { name: 'points', version: 1, versionId: 'points@1', parentVersion: null, manifestSha256: 'b'.repeat(64), fileCount: 2, totalBytes: 300, tabular: [], message: 'first', author: 'ada', tags: [], at: 1 }),
  ev('dataset-points', 'DatasetVersionCommitted', { name: 'points', version: 2, versionId: 'points@2', parentVersion: 1, manifestSha256: 'c'.repeat(64), fileCount: 3, totalBytes: 400, tabular: [], message: 'more', author: 'ada', tags: [], at: 2 }),
  ev('dataset-points', 'DatasetVersionDeprecated', { name: 'points', version: 2, reason: 'mislabelled', at: 3 }, 'user:bob'),
];
const inputEvents = [
  ev('runio-r1', 'RunInputsDeclared', { runId: 'r1', inputs: [{ datasetName: 'points', versionId: 'points@1', versionNumber: 1, role: 'train' }, { datasetName: 'points', versionId: 'points@2', versionNumber: 2, role: 'test' }], at: 9 }),
];

const facts = (): RecipeFacts => ({
  run: foldRunFacts(runEvents)!,
  inputs: foldRunInputs(inputEvents),
  datasets: new Map([['points', foldDatasetVersions(datasetEvents)]]),
  asOf: { position: 20, recordedAt: 1020, head: 30 },
});

describe('a reproduction recipe', () => {
  const recipe = buildRecipe(facts());

  it('names the code, its uncommitted diff, the command and where it ran', () => {
    expect(recipe.code).toEqual({
      repository: 'https://example.com/ml.git', commit: 'abc123', branch: 'main', dirty: true, diff: source.gitDiff, diffSha256: 'f'.repeat(64),
      source: null, entryPoint: 'toy/train.mjs', workingDir: 'toy',
    });
    expect(recipe.command).toEqual(source.command);
    expect(recipe.commandLine).toBe("node train.mjs --epochs=3 'it has spaces'");
  });

  it('keeps params, finds the seed, and expects the latest value of each metric (greatest step, then time, later logs winning)', () => {
    expect(recipe.params).toEqual([{ key: 'lr', value: '0.1' }, { key: 'seed', value: '7' }]);
    expect(recipe.seed).toEqual({ key: 'seed', value: '7', from: 'param' });
    expect(recipe.expectedMetrics).toEqual([
      { key: 'acc', value: 'NaN', step: 0, timestamp: 1 },
      { key: 'loss', value: 0.4, step: 1, timestamp: 2 },
    ]);
    expect(recipe.status).toBe('FINISHED');
    expect(recipe.endTime).toBe(50);
  });

  it('gives each dataset version a checkout command, one directory per version when a dataset is read twice', () => {
    expect(recipe.datasets.map((d) => [d.versionId, d.role, d.checkoutCommand, d.manifestSha256, d.deprecated])).toEqual([
      ['points@1', 'train', 'chronicle data checkout points@1 data/points@1', 'b'.repeat(64), false],
      ['points@2', 'test', 'chronicle data checkout points@2 data/points@2', 'c'.repeat(64), true],
    ]);
  });

  it('reads runtimes and lockfiles by convention, and says what is missing', () => {
    expect(recipe.environment.runtimes).toEqual([{ name: 'node', version: 'v20.11.0' }]);
    expect(recipe.environment.lockfiles).toEqual([{ path: 'package-lock.json', sha256: 'a'.repeat(64) }]);
    expect(recipe.missing).toEqual(['data: points@2 is deprecated (mislabelled); a new run may not declare it as an input']);
    expect(recipe.asOf).toEqual({ position: 20, recordedAt: 1020, head: 30, latest: false });
  });

  it('lists everything a bare run lacks instead of failing', () => {
    const bare = foldRunFacts([ev('run-r2', 'RunStarted', { runId: 'r2', experimentId: '0', name: '', tags: [], parentRunId: null, source: {}, environment: {}, startTime: 1 })])!;
    const r = buildRecipe({ run: bare, inputs: [], datasets: new Map(), asOf: { position: 3, recordedAt: 1, head: 3 } });
    expect(r.command).toBeNull();
    expect(r.missing.map((m) => m.split(':')[0])).toEqual(['code', 'command', 'data', 'environment', 'environment', 'seed', 'status']);
    expect(r.steps.at(-1)).toMatch(/<the command that ran: not recorded>$/);
    expect(renderRecipeMarkdown(r)).toContain('- Command: not recorded');
  });

  it('renders Markdown with every section, fencing a diff that holds backticks', () => {
    const md = renderRecipeMarkdown(recipe);
    for (const h of ['## Code', '## Params (2)', '## Seed', '## Data (2)', '## Environment', '## Expected metrics (2)', '## Steps', '## Missing'])
      expect(md).toContain(h);
    expect(md).toContain('````diff\ndiff --git');
    expect(md).toContain("CHRONICLE_PARAMS='{\"lr\":\"0.1\",\"seed\":\"7\"}' node train.mjs --epochs=3 'it has spaces'");
  });
});

describe('conventions', () => {
  it('finds a seed in params before tags, case-insensitively, in the documented order', () => {
    expect(findSeed([{ key: 'Random_Seed', value: '1' }, { key: 'seed', value: '2' }], [])).toEqual({ key: 'seed', value: '2', from: 'param' });
    expect(findSeed([], [{ key: 'random_state', value: '3' }])).toEqual({ key: 'random_state', value: '3', from: 'tag' });
    expect(findSeed([{ key: 'seeds', value: '1' }], [])).toBeNull();
  });
  it('reads top-level runtime names and a single lockfile too', () =>
    expect(readEnvironment({ python: '3.11.4', lockfile: { path: 'uv.lock', sha256: 'd'.repeat(64) }, lockfiles: 'junk' as never })).toEqual({
      runtimes: [{ name: 'python', version: '3.11.4' }],
      lockfiles: [{ path: 'uv.lock', sha256: 'd'.repeat(64) }],
    }));
  it('quotes shell arguments so they read back unchanged', () => expect(shellLine(['a b', "it's", '', 'x=1'])).toBe(`'a b' 'it'"'"'s' '' x=1`));
});
