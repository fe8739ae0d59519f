import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { StartRunSource } from '../runs.js';

/** The server keeps a diff only up to this size (its hash always). */
export const MAX_RECORDED_DIFF_BYTES = 64 * 1024;

/** Lockfiles hashed into `environment.lockfiles`, looked for from the working directory up to the repository root. */
export const LOCKFILE_NAMES = ['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'poetry.lock', 'uv.lock', 'requirements.txt'];

export interface RunContext {
  source: StartRunSource;
  environment: Record<string, unknown>;
}

export interface CaptureOptions {
  /** Where the run's command runs; default process.cwd(). */
  cwd?: string;
  /** The command line; default process.argv (interpreter, script, args). */
  argv?: readonly string[];
  /** Whether to record the command line and entry point; off for a CLI that starts a run for another program. */
  command?: boolean;
}

function git(cwd: string, args: string[], maxBuffer = 16 * 1024 * 1024): Promise<string | null> {
  return new Promise((done) => {
    execFile('git', args, { cwd, timeout: 10_000, maxBuffer, encoding: 'utf8' }, (err, stdout) => done(err ? null : stdout));
  });
}

/** A remote URL without the credentials some remotes embed (`https://user:token@host/...`). */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

const posix = (p: string) => p.split(sep).join('/');

async function gitSource(cwd: string): Promise<{ source: StartRunSource; root: string } | null> {
  const top = (await git(cwd, ['rev-parse', '--show-toplevel']))?.trim();
  if (!top) return null;
  const source: StartRunSource = {};
  const head = (await git(cwd, ['rev-parse', '--verify', '-q', 'HEAD']))?.trim();
  if (head) source.gitCommit = head;
  const branch = (await git(cwd, ['symbolic-ref', '-q', '--short', 'HEAD']))?.trim();
  if (branch) source.gitBranch = branch;
  const remote = (await git(cwd, ['config', '--get', 'remote.origin.url']))?.trim();
  if (remote) source.gitRepo = withoutCredentials(remote);
  if (head) {
    // Tracked files only: build outputs and scratch files do not make a tree dirty.
    const status = await git(top, ['status', '--porcelain', '--untracked-files=no']);
    if (status !== null) source.gitDirty = status.trim() !== '';
    if (source.gitDirty) {
      const diff = await git(top, ['diff', 'HEAD', '--binary'], 256 * 1024 * 1024);
      if (diff !== null) {
        source.gitDiffSha256 = createHash('sha256').update(diff).digest('hex');
        if (Buffer.byteLength(diff) <= MAX_RECORDED_DIFF_BYTES) source.gitDiff = diff;
      }
    }
  }
  source.workingDir = posix(relative(top, cwd));
  return { source, root: top };
}

async function lockfiles(cwd: string, root: string | null): Promise<{ path: string; sha256: string }[]> {
  const found: { path: string; sha256: string }[] = [];
  const base = root ?? cwd;
  for (let dir = cwd; ; dir = dirname(dir)) {
    for (const name of LOCKFILE_NAMES) {
      const bytes = await readFile(join(dir, name)).catch(() => null);
      if (bytes) found.push({ path: posix(relative(base, join(dir, name))) || name, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    if (found.length > 0 || !root || dir === root || dirname(dir) === dir) break;
  }
  return found;
}

/**
 * What a run started from this process should record to be reproducible: the git commit,
 * branch, remote, whether the tree was dirty (and its diff), the command line, where it ran,
 * the Node version and the hash of the nearest lockfile. Anything that cannot be found is left
 * out, never guessed.
 */
export async function captureRunContext(opts: CaptureOptions = {}): Promise<RunContext> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const argv = opts.argv ?? process.argv;
  const g = await gitSource(cwd);
  const source: StartRunSource = g?.source ?? {};
  if (opts.command !== false && argv.length >= 1) {
    // `node /abs/path/train.mjs --x` becomes `node train.mjs --x`, run again from the same directory.
    const interpreter = argv[0] === process.execPath || basename(argv[0]!) === 'node' ? 'node' : argv[0]!;
    const script = argv[1] !== undefined && isAbsolute(argv[1]) ? posix(relative(cwd, argv[1])) : argv[1];
    source.command = [interpreter, ...(script !== undefined ? [script] : []), ...argv.slice(2)];
    if (argv[1] !== undefined) {
      source.entryPoint = posix(relative(g?.root ?? cwd, resolve(cwd, argv[1])));
      source.source = source.entryPoint;
    }
  }
  return {
    source,
    environment: {
      runtime: { node: process.version },
      platform: process.platform,
      arch: process.arch,
      lockfiles: await lockfiles(cwd, g?.root ?? null),
    },
  };
}
