import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
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
 * The file: `CHC2`, the entry count (u32 LE), then per entry the SHA-256 (32 raw bytes), size,
 * mtime (ms) and inode (f64 LE each), the path's UTF-8 length (u32 LE) and the path. As JSON
 * (v1) it was ~190 bytes an entry and saving 100,000 of them took a few hundred milliseconds.
 */
const MAGIC = 'CHC2';
const FIXED = 32 + 8 * 3 + 4;

export function encodeEntries(entries: ReadonlyMap<string, CachedHash>): Buffer {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: a bound, so each path is written once.
  let bound = 8;
  for (const path of entries.keys()) bound += FIXED + 3 * path.length;
  const out = Buffer.allocUnsafe(bound);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(entries.size, 4);
  let at = 8;
  // forEach, not for-of: no [key, value] array per entry.
  entries.forEach((c, path) => {
    out.write(c.sha256, at, 32, 'hex');
    out.writeDoubleLE(c.size, at + 32);
    out.writeDoubleLE(c.mtimeMs, at + 40);
    out.writeDoubleLE(c.ino, at + 48);
    const n = out.write(path, at + FIXED, 'utf8');
    out.writeUInt32LE(n, at + 56);
    at += FIXED + n;
  });
  return out.subarray(0, at);
}

/** The entries of a file `encodeEntries` wrote; null for anything else (the cache then starts empty). */
export function decodeEntries(buf: Buffer): Map<string, CachedHash> | null {
  if (buf.length < 8 || buf.toString('latin1', 0, 4) !== MAGIC) return null;
  const count = buf.readUInt32LE(4);
  const entries = new Map<string, CachedHash>();
  let at = 8;
  for (let i = 0; i < count; i++) {
    if (at + FIXED > buf.length) return null;
    const n = buf.readUInt32LE(at + 56);
    if (at + FIXED + n > buf.length) return null;
    entries.set(buf.toString('utf8', at + FIXED, at + FIXED + n), {
      sha256: buf.toString('hex', at, at + 32),
      size: buf.readDoubleLE(at + 32),
      mtimeMs: buf.readDoubleLE(at + 40),
      ino: buf.readDoubleLE(at + 48),
    });
    at += FIXED + n;
  }
  return at === buf.length ? entries : null;
}

/**
 * Hashes known by (absolute path, size, mtime, inode): a file rewritten in place changes its
 * mtime, one replaced by rename changes its inode, so either is re-hashed.
 */
export class HashCache {
  private constructor(private readonly file: string, private readonly entries: Map<string, CachedHash>, private readonly legacy: string | null) {}

  static async open(dir: string): Promise<HashCache> {
    const file = join(dir, 'hash-cache.v2.bin');
    const legacy = join(dir, 'hash-cache.v1.json');
    try {
      const entries = decodeEntries(await readFile(file));
      if (entries) return new HashCache(file, entries, null);
    } catch {
      // missing or unreadable: start empty (or from the JSON of earlier versions); the cache is only an accelerator
    }
    try {
      const entries = new Map(Object.entries(JSON.parse(await readFile(legacy, 'utf8')) as Record<string, CachedHash>));
      return new HashCache(file, entries, legacy);
    } catch {
      return new HashCache(file, new Map(), null);
    }
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
    await writeFile(tmp, encodeEntries(this.entries));
    await rename(tmp, this.file);
    // Its entries now live in the new file.
    if (this.legacy) await unlink(this.legacy).catch(() => undefined);
  }
}
