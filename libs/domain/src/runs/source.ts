import { ValidationFailed } from '../errors.js';
import type { RunSource } from './events.js';

/** A diff larger than this is not stored in the event (its hash is): events stay small, the log stays fast. */
export const MAX_GIT_DIFF_BYTES = 64 * 1024;
export const MAX_COMMAND_ARGS = 256;
const MAX_ARG_LENGTH = 4096;
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Checks the fields a reproduction relies on (diff, command, working directory). The older
 * fields (commit, repo, source, entry point) stay free-form strings, as MLflow clients send them.
 */
export function validateRunSource(source: RunSource): RunSource {
  const bad = (field: string, why: string) => new ValidationFailed(`source.${field} ${why}`, { field: `source.${field}` });
  for (const field of ['gitCommit', 'gitRepo', 'source', 'entryPoint', 'gitBranch', 'workingDir', 'gitDiff', 'gitDiffSha256'] as const) {
    const v = source[field];
    if (v !== undefined && typeof v !== 'string') throw bad(field, 'must be a string');
  }
  if (source.gitDirty !== undefined && typeof source.gitDirty !== 'boolean') throw bad('gitDirty', 'must be a boolean');
  if (source.gitDiff !== undefined && utf8Length(source.gitDiff) > MAX_GIT_DIFF_BYTES)
    throw bad('gitDiff', `is larger than ${MAX_GIT_DIFF_BYTES} bytes; record gitDiffSha256 alone and keep the patch elsewhere`);
  if (source.gitDiffSha256 !== undefined && !SHA256.test(source.gitDiffSha256)) throw bad('gitDiffSha256', 'must be a lowercase hex SHA-256');
  if (source.command !== undefined) {
    const c = source.command;
    if (!Array.isArray(c) || c.length === 0 || c.length > MAX_COMMAND_ARGS || c.some((a) => typeof a !== 'string' || a.length > MAX_ARG_LENGTH))
      throw bad('command', `must be a non-empty list of at most ${MAX_COMMAND_ARGS} arguments (strings of at most ${MAX_ARG_LENGTH} characters)`);
  }
  const wd = source.workingDir;
  if (wd !== undefined && (wd.startsWith('/') || wd.split('/').includes('..')))
    throw bad('workingDir', 'must be relative to the repository root, without ".."');
  return source;
}

const utf8Length = (s: string) => new TextEncoder().encode(s).length;
