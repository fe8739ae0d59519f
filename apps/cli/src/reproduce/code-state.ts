import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { RecipeDocument } from '@chronicle/sdk';

/** The code a reproduction would run: the checkout's HEAD and its uncommitted changes. */
export interface CodeState {
  /** The repository root; null when the directory is not in a git checkout. */
  root: string | null;
  head: string | null;
  dirty: boolean;
  /** SHA-256 of `git diff HEAD --binary`, as the SDK records it; null when clean. */
  diffSha256: string | null;
}

function git(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((done) =>
    execFile('git', args, { cwd, timeout: 10_000, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (err, out) => done(err ? null : out)),
  );
}

export async function readCodeState(dir: string): Promise<CodeState> {
  const root = (await git(dir, ['rev-parse', '--show-toplevel']))?.trim() || null;
  if (!root) return { root: null, head: null, dirty: false, diffSha256: null };
  const head = (await git(root, ['rev-parse', '--verify', '-q', 'HEAD']))?.trim() || null;
  const status = await git(root, ['status', '--porcelain', '--untracked-files=no']);
  const dirty = (status ?? '').trim() !== '';
  const diff = dirty ? await git(root, ['diff', 'HEAD', '--binary']) : null;
  return { root, head, dirty, diffSha256: diff === null ? null : createHash('sha256').update(diff).digest('hex') };
}

/**
 * How the checkout differs from the code the run recorded, one sentence each; empty when it is
 * the same commit with the same uncommitted changes (or the run recorded too little to tell).
 */
export function codeMismatches(code: RecipeDocument['code'], state: CodeState, dir: string): string[] {
  if (!code.commit) return [];
  if (!state.root) return [`${dir} is not a git checkout; clone ${code.repository ?? 'the repository'} and check out ${code.commit}`];
  const out: string[] = [];
  if (state.head !== code.commit) out.push(`the checkout is at ${state.head ?? 'no commit'}, the run used ${code.commit}: git checkout ${code.commit}`);
  if (code.dirty === false && state.dirty) out.push('the checkout has uncommitted changes; the run ran on a clean tree');
  if (code.dirty === true) {
    if (!state.dirty) out.push(`the run ran on uncommitted changes${code.diff ? ' (apply the recipe’s code.diff with git apply)' : ' that were not recorded'}`);
    else if (code.diffSha256 && state.diffSha256 !== code.diffSha256) out.push('the checkout’s uncommitted changes differ from the ones the run ran on');
  }
  return out;
}
