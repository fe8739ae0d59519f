import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliMain, gql, repoRoot, startChronicle, type ChronicleProcess } from '../support/chronicle-process.js';

// The seeded toy script runs from a git repository of its own (a temporary one), the way a
// user's training code would; node_modules points at this workspace so it finds the built SDK.
let server: ChronicleProcess;
let auth: Record<string, string>;
let tmp: string;
let code: string;
let originalRunId: string;
let commit: string;

const q = async (query: string, variables: Record<string, unknown> = {}) => {
  const r = await gql(server.url, query, variables, auth);
  expect(r.body.errors).toBeUndefined();
  return r.body.data;
};
const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: code, encoding: 'utf8' }).trim();

function exec(file: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHRONICLE_'))) as Record<string, string>;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(
      file,
      args,
      { cwd: opts.cwd ?? tmp, env: { ...clean, CHRONICLE_URL: server.url, CHRONICLE_TOKEN: server.adminToken, CHRONICLE_CACHE_DIR: join(tmp, 'cache'), ...opts.env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}
const cli = (args: string[], opts: { cwd?: string } = {}) => exec(process.execPath, [cliMain, ...args], opts);

/** 200 points in two overlapping clusters, from a seeded generator: the committed dataset. */
function points(seed: number, n: number): string {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const rows = ['x1,x2,label'];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const c = label ? 1 : -1;
    rows.push(`${(c + gauss()).toFixed(6)},${(c * 0.5 + gauss()).toFixed(6)},${label}`);
  }
  return `${rows.join('\n')}\n`;
}

beforeAll(async () => {
  server = await startChronicle({ env: { CHRONICLE_LOOPBACK_ROLE: 'none' } });
  auth = { authorization: `Bearer ${server.adminToken}` };
  tmp = mkdtempSync(join(tmpdir(), 'chronicle-reproduce-'));
  code = join(tmp, 'code');
  mkdirSync(join(code, 'toy'), { recursive: true });
  copyFileSync(join(repoRoot, 'test/fixtures/toy-train/train.mjs'), join(code, 'toy/train.mjs'));
  writeFileSync(join(code, '.gitignore'), 'node_modules\n');
  writeFileSync(join(code, 'package-lock.json'), '{"name":"toy","lockfileVersion":3}\n');
  symlinkSync(join(repoRoot, 'node_modules'), join(code, 'node_modules'));
  git('init', '-q', '-b', 'main');
  git('remote', 'add', 'origin', 'https://example.com/team/toy.git');
  git('add', '.');
  git('commit', '-q', '-m', 'toy trainer');
  commit = git('rev-parse', 'HEAD');

  mkdirSync(join(tmp, 'data/points'), { recursive: true });
  writeFileSync(join(tmp, 'data/points/points.csv'), points(7, 200));
  const committed = await cli(['data', 'commit', 'points', join(tmp, 'data/points'), '-m', 'two clusters']);
  expect(committed.stderr).not.toMatch(/error:/);
  // The original run, as a user would start it: from the code's checkout, data checked out beside it.
  const trained = await exec(process.execPath, ['toy/train.mjs', '--dataset-version=1', '--epochs=25', '--data-dir=../data'], { cwd: code });
  expect(trained.stderr).toBe('');
  expect(trained.code).toBe(0);
  originalRunId = trained.stdout.trim();
}, 90_000);

afterAll(async () => {
  await server?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('chronicle reproduce', () => {
  it('prints a recipe naming the code, command, params, seed, data checkout, environment and expected metrics', async () => {
    const r = await cli(['--json', 'reproduce', originalRunId, '--out', join(tmp, 'recipe.md')]);
    expect(r.code).toBe(0);
    const recipe = JSON.parse(r.stdout);
    expect(recipe.code).toMatchObject({ repository: 'https://example.com/team/toy.git', commit, branch: 'main', dirty: false, entryPoint: 'toy/train.mjs', workingDir: '' });
    expect(recipe.command).toEqual(['node', 'toy/train.mjs', '--dataset-version=1', '--epochs=25', '--data-dir=../data']);
    expect(recipe.params).toEqual([
      { key: 'dataset', value: 'points' },
      { key: 'dataset_version', value: '1' },
      { key: 'epochs', value: '25' },
      { key: 'experiment', value: 'toy-train' },
      { key: 'lr', value: '0.5' },
      { key: 'seed', value: '42' },
    ]);
    expect(recipe.seed).toEqual({ key: 'seed', value: '42', from: 'param' });
    expect(recipe.datasets).toMatchObject([{ versionId: 'points@1', role: 'train', checkoutCommand: 'chronicle data checkout points@1 data/points' }]);
    expect(recipe.environment.runtimes).toEqual([{ name: 'node', version: process.version }]);
    expect(recipe.environment.lockfiles).toMatchObject([{ path: 'package-lock.json' }]);
    expect(recipe.expectedMetrics.map((m: { key: string }) => m.key)).toEqual(['accuracy', 'bias', 'loss', 'w1', 'w2']);
    expect(recipe.missing).toEqual([]);
    const md = readFileSync(join(tmp, 'recipe.md'), 'utf8');
    expect(md).toContain(`- Commit: \`${commit}\``);
    expect(md).toContain('`chronicle data checkout points@1 data/points`');
    expect(md).toContain('`seed` = `42` (a param)');
  });

  it('--execute checks the data out, re-runs the command as a linked run, and gets the same metrics', async () => {
    const r = await cli(['--json', 'reproduce', originalRunId, '--execute', '--code-dir', code, '--workdir', join(tmp, 'work'), '--tolerance', '0']);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    const { result } = JSON.parse(r.stdout);
    expect(result.reproduced).toBe(true);
    expect(result.comparison.map((c: { key: string; equal: boolean; absDiff: number }) => [c.key, c.equal, c.absDiff])).toEqual([
      ['accuracy', true, 0],
      ['bias', true, 0],
      ['loss', true, 0],
      ['w1', true, 0],
      ['w2', true, 0],
    ]);
    expect(r.stderr).toMatch(/✓ checked out points@1/);
    expect(readFileSync(join(tmp, 'work/data/points/points.csv'), 'utf8')).toBe(points(7, 200));
    const links = await q(
      `query($o: ID!, $r: ID!) {
        original: run(id: $o) { reproductions { id } reproductionOfId }
        copy: run(id: $r) { reproductionOf { id } status params { key value } source { gitCommit command } inputs { versionId role } }
      }`,
      { o: originalRunId, r: result.reproductionRunId },
    );
    expect(links.original).toEqual({ reproductions: [{ id: result.reproductionRunId }], reproductionOfId: null });
    expect(links.copy.reproductionOf).toEqual({ id: originalRunId });
    expect(links.copy.status).toBe('FINISHED');
    expect(links.copy).toMatchObject({ source: { gitCommit: commit, command: ['node', 'toy/train.mjs', '--dataset-version=1', '--epochs=25', '--data-dir=../data'] } });
    expect(links.copy.params).toContainEqual({ key: 'seed', value: '42' });
    expect(links.copy.inputs).toEqual([{ versionId: 'points@1', role: 'train' }]);
    // The text form shows the comparison with a check mark per metric.
    const text = await cli(['reproduce', originalRunId, '--execute', '--code-dir', code, '--workdir', join(tmp, 'work')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^loss\s+\S+\s+\S+\s+0\s+0\s+✓$/m);
    expect(text.stdout).toContain(`matches run ${originalRunId} on every metric`);
  });

  it('refuses code that is not the recorded commit, and exits non-zero when metrics differ', async () => {
    writeFileSync(join(code, 'toy/train.mjs'), readFileSync(join(code, 'toy/train.mjs'), 'utf8').replace('const lr = Number(params.lr);', 'const lr = Number(params.lr) / 10;'));
    git('commit', '-q', '-am', 'slower learning');
    try {
      const refused = await cli(['reproduce', originalRunId, '--execute', '--code-dir', code, '--workdir', join(tmp, 'work')]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`error: the checkout is at [0-9a-f]{40}, the run used ${commit}.*\\(CODE_MISMATCH\\)`));
      const differs = await cli(['--json', 'reproduce', originalRunId, '--execute', '--allow-code-mismatch', '--code-dir', code, '--workdir', join(tmp, 'work')]);
      expect(differs.code).toBe(1);
      expect(differs.stderr).toMatch(/metric\(s\) differ beyond the tolerance \(METRICS_DIFFER\)/);
      const { result } = JSON.parse(differs.stdout);
      expect(result.reproduced).toBe(false);
      expect(result.comparison.find((c: { key: string }) => c.key === 'loss')).toMatchObject({ equal: false });
    } finally {
      git('reset', '-q', '--hard', commit);
    }
  });

  it('--as-of leaves out params, inputs and deprecations recorded later', async () => {
    const before = ((await (await fetch(`${server.url}/healthz`)).json()) as { head: number }).head;
    await q('mutation($r: ID!) { logParams(runId: $r, params: [{ key: "note", value: "added later" }]) { id } }', { r: originalRunId });
    writeFileSync(join(tmp, 'data/points/points.csv'), points(8, 220));
    expect((await cli(['data', 'commit', 'points', join(tmp, 'data/points'), '-m', 'more points'])).code).toBe(0);
    await q('mutation($r: String!) { declareRunInputs(runId: $r, inputs: [{ dataset: "points", version: "2", role: "validation" }]) { versionId } }', { r: originalRunId });
    expect((await cli(['data', 'deprecate', 'points@1', '--reason', 'labels leaked'])).code).toBe(0);

    const now = JSON.parse((await cli(['--json', 'reproduce', originalRunId])).stdout);
    expect(now.params.map((p: { key: string }) => p.key)).toContain('note');
    expect(now.datasets.map((d: { versionId: string; deprecated: boolean }) => [d.versionId, d.deprecated])).toEqual([['points@1', true], ['points@2', false]]);
    expect(now.missing).toContain('data: points@1 is deprecated (labels leaked); a new run may not declare it as an input');

    const past = await cli(['--json', 'reproduce', originalRunId, '--as-of', String(before)]);
    expect(past.code).toBe(0);
    const then = JSON.parse(past.stdout);
    expect(then.asOf).toMatchObject({ position: before, latest: false });
    expect(then.params.map((p: { key: string }) => p.key)).not.toContain('note');
    expect(then.datasets.map((d: { versionId: string; deprecated: boolean }) => [d.versionId, d.deprecated])).toEqual([['points@1', false]]);
    // A time works too: the instant of that position.
    const byTime = JSON.parse((await cli(['--json', 'reproduce', originalRunId, '--as-of', new Date(then.asOf.recordedAt).toISOString()])).stdout);
    expect(byTime.asOf.position).toBeGreaterThanOrEqual(before);
    expect(byTime.params.map((p: { key: string }) => p.key)).not.toContain('note');
  });

  it('answers unknown runs and bad as-of values with clear errors and exit codes', async () => {
    const unknown = await cli(['reproduce', 'no-such-run']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error: run no-such-run does not exist (NOT_FOUND)');
    const beyond = await cli(['reproduce', originalRunId, '--as-of', '999999999']);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toMatch(/beyond the head of the log .*\(BAD_USER_INPUT\)/);
    const typo = await cli(['reproduce', originalRunId, '--as-of', 'last tuesday']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/expected a log position/);
    const tooEarly = await gql(server.url, 'query($r: ID!) { reproductionRecipe(runId: $r, asOf: "1") { runId } }', { r: originalRunId }, auth);
    expect(tooEarly.body.errors?.[0]).toMatchObject({ message: `run ${originalRunId} did not exist yet at position 1`, extensions: { code: 'NOT_FOUND' } });
  });

  it('says what a run without recorded source lacks, and refuses to execute it', async () => {
    const bare = (await q('mutation { startRun(input: { experimentId: "0", name: "by hand" }) { id } }')).startRun.id as string;
    const r = await cli(['--json', 'reproduce', bare]);
    expect(r.code).toBe(0);
    const recipe = JSON.parse(r.stdout);
    expect(recipe.command).toBeNull();
    expect(recipe.missing).toEqual(
      expect.arrayContaining([
        'code: the run recorded neither a git repository nor a commit, so the code that ran is unknown',
        'command: no command line was recorded, so --execute cannot run it',
        'data: the run declared no dataset inputs; if it read data, that data was not versioned',
      ]),
    );
    const text = await cli(['reproduce', bare]);
    expect(text.stdout).toContain('- Command: not recorded');
    const exec = await cli(['reproduce', bare, '--execute', '--workdir', join(tmp, 'bare')]);
    expect(exec.code).toBe(1);
    expect(exec.stderr).toMatch(/recorded no command line.*\(NO_COMMAND\)/);
  });
});
