import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

interface CachedHash {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** The user's cache directory: $CHRONICLE_CACHE_DIR, else $XDG_CACHE_HOME/chronicle, else ~/.cache/chronicle. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return env['CHRONICLE_CACHE_DIR'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'chronicle');
}

/**
 * Hashes known by (absolute path, size, mtime, inode): a file rewritten in place changes its
 * mtime, one replaced by rename changes its inode, so either is re-hashed.
 */
export class HashCache {
  private constructor(private readonly file: string, private readonly entries: Map<string, CachedHash>) {}

  static async open(dir: string): Promise<HashCache> {
    const file = join(dir, 'hash-cache.v1.json');
    let entries = new Map<string, CachedHash>();
    try {
      entries = new Map(Object.entries(JSON.parse(await readFile(file, 'utf8')) as Record<string, CachedHash>));
    } catch {
      // missing or unreadable: start empty; the cache is only an accelerator
    }
    return new HashCache(file, entries);
  }

  get(absolute: string, f: { size: number; mtimeMs: number; ino: number }): string | undefined {
    const c = this.entries.get(absolute);
    return c && c.size === f.size && c.mtimeMs === f.mtimeMs && c.ino === f.ino ? c.sha256 : undefined;
  }

  set(absolute: string, f: { size: number; mtimeMs: number; ino: number }, sha256: string): void {
    this.entries.set(absolute, { size: f.size, mtimeMs: f.mtimeMs, ino: f.ino, sha256 });
  }

  /** Written to a temporary file and renamed, so a killed CLI never leaves a torn cache. */
  async save(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(this.entries)));
    await rename(tmp, this.file);
  }
}
