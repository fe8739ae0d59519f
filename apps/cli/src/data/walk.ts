import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';

export interface WalkedFile {
  /** Relative to the committed root, `/`-separated. */
  path: string;
  absolute: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface WalkResult {
  files: WalkedFile[];
  /** Symlinks to directories and dangling symlinks: not versioned (see docs/datasets.md). */
  skipped: { path: string; reason: string }[];
}

/**
 * Every regular file under `root` (or `root` itself if it is a file). Symlinks to files are
 * followed (their content is versioned under the link's path); symlinks to directories are
 * skipped, so a link cycle can never make the walk endless. Empty directories hold no file and
 * are therefore not versioned.
 *
 * The calls are synchronous on purpose: a tree of 100,000 files is 100,000 stats, and each
 * costs microseconds in place but far more as a round trip through the thread pool.
 */
export async function walkTree(root: string): Promise<WalkResult> {
  const top = statSync(root);
  const files: WalkedFile[] = [];
  const skipped: WalkResult['skipped'] = [];
  if (top.isFile()) {
    const name = root.split(/[\\/]/).pop()!;
    return { files: [{ path: name, absolute: root, size: top.size, mtimeMs: top.mtimeMs, ino: top.ino }], skipped };
  }
  // Directories below the root are joined to their entries' names by concatenation: they are
  // already normalised, and path.join's normalising was a visible share of the walk.
  const pending: [string, string][] = [[root, '']];
  while (pending.length) {
    const [dir, rel] = pending.pop()!;
    const prefix = rel === '' ? null : `${dir}${sep}`;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const absolute = prefix === null ? join(dir, entry.name) : `${prefix}${entry.name}`;
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) pending.push([absolute, path]);
      else if (entry.isFile() || entry.isSymbolicLink()) {
        const s = statSync(absolute, { throwIfNoEntry: false });
        if (!s) {
          skipped.push({ path, reason: 'dangling symlink' });
          continue;
        }
        if (s.isFile()) files.push({ path, absolute, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
        else skipped.push({ path, reason: s.isDirectory() ? 'symlink to a directory' : 'not a regular file' });
      } else skipped.push({ path, reason: 'not a regular file' });
    }
  }
  return { files, skipped };
}
