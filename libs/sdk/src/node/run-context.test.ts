import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { paramsFromEnv } from './from-env.js';
import { captureRunContext, MAX_RECORDED_DIFF_BYTES, withoutCredentials } from './run-context.js';

const root = mkdtempSync(join(tmpdir(), 'chronicle-git-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

function repo(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'ml'), { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'ml', 'train.mjs'), 'console.log(1)\n');
  writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion":3}\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'first');
  git(dir, 'remote', 'add', 'origin', 'https://bot:s3cret@example.com/team/ml.git');
  return dir;
}

describe('capturing what makes a run reproducible', () => {
  it('records commit, branch, remote without credentials, a clean tree, the command, where it ran and the lockfile', async () => {
    const dir = repo('clean');
    const ctx = await captureRunContext({ cwd: join(dir, 'ml'), argv: [process.execPath, join(dir, 'ml', 'train.mjs'), '--epochs=3'] });
    expect(ctx.source).toEqual({
      gitCommit: git(dir, 'rev-parse', 'HEAD'),
      gitBranch: 'main',
      gitRepo: 'https://example.com/team/ml.git',
      gitDirty: false,
      workingDir: 'ml',
      command: ['node', 'train.mjs', '--epochs=3'],
      entryPoint: 'ml/train.mjs',
      source: 'ml/train.mjs',
    });
    expect(ctx.environment).toMatchObject({
      runtime: { node: process.version },
      lockfiles: [{ path: 'package-lock.json', sha256: createHash('sha256').update('{"lockfileVersion":3}\n').digest('hex') }],
    });
  });

  it('records the diff of a dirty tree, and only its hash when it is too large', async () => {
    const dir = repo('dirty');
    writeFileSync(join(dir, 'ml', 'train.mjs'), 'console.log(2)\n');
    writeFileSync(join(dir, 'untracked.txt'), 'scratch');
    const small = await captureRunContext({ cwd: dir, argv: ['node'], command: false });
    expect(small.source.gitDirty).toBe(true);
    expect(small.source.gitDiff).toContain('+console.log(2)');
    expect(small.source.gitDiffSha256).toBe(createHash('sha256').update(small.source.gitDiff!).digest('hex'));
    expect(small.source.command).toBeUndefined();
    writeFileSync(join(dir, 'ml', 'train.mjs'), 'x'.repeat(MAX_RECORDED_DIFF_BYTES + 10));
    const large = await captureRunContext({ cwd: dir, argv: ['node'], command: false });
    expect(large.source.gitDiff).toBeUndefined();
    expect(large.source.gitDiffSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records no git facts outside a repository, and guesses none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chronicle-nogit-'));
    try {
      const ctx = await captureRunContext({ cwd: dir, argv: ['python3', 'fit.py'] });
      expect(ctx.source).toEqual({ command: ['python3', 'fit.py'], entryPoint: 'fit.py', source: 'fit.py' });
      expect(ctx.environment['lockfiles']).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('strips credentials from remotes and reads CHRONICLE_PARAMS strictly', () => {
    expect(withoutCredentials('https://u:p@host/x.git')).toBe('https://host/x.git');
    expect(withoutCredentials('git@github.com:org/x.git')).toBe('git@github.com:org/x.git');
    expect(paramsFromEnv({ CHRONICLE_PARAMS: '{"lr":"0.1"}' })).toEqual({ lr: '0.1' });
    expect(paramsFromEnv({})).toEqual({});
    expect(() => paramsFromEnv({ CHRONICLE_PARAMS: '{"lr":0.1}' })).toThrow(/object of strings/);
    expect(() => paramsFromEnv({ CHRONICLE_PARAMS: 'lr=0.1' })).toThrow(/not JSON/);
  });
});
