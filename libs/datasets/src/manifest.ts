import { createHash } from 'node:crypto';
import { ValidationFailed } from '@chronicle/domain';

/** One file of a dataset version. Paths are relative, `/`-separated, NFC as the walker found them. */
export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
/**
 * A canonical line whose path JSON writes as it is (no quote, backslash, control character or
 * surrogate): most lines, read without JSON.parse or re-encoding. Any other line goes the long way.
 */
const PLAIN_LINE = /^\{"path":"([^"\\\u0000-\u001f\ud800-\udfff]+)","sha256":"([0-9a-f]{64})","size":(0|[1-9][0-9]{0,15})\}$/;
export const MAX_PATH_BYTES = 4096;

export function validateManifestPath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0 || Buffer.byteLength(path) > MAX_PATH_BYTES)
    throw new ValidationFailed(`a manifest path is 1-${MAX_PATH_BYTES} bytes`, { field: 'path' });
  const parts = path.split('/');
  // Checkout writes these paths under a directory: nothing may climb out of it or be ambiguous.
  if (path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..') || path.includes('\\') || path.includes('\0'))
    throw new ValidationFailed(`manifest path "${path}" must be relative, '/'-separated, without '.', '..' or empty segments`, {
      field: 'path',
      path,
    });
  return path;
}

// Plain code-unit order: the same on every machine, whatever the locale.
const byPath = (a: ManifestEntry, b: ManifestEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * The canonical manifest: one JSON line per file with sorted keys, sorted by path. The same tree
 * always gives the same bytes, so its SHA-256 says whether anything changed.
 */
export function encodeManifest(entries: readonly ManifestEntry[]): Buffer {
  const sorted = [...entries].sort(byPath);
  const lines: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.path === e.path) throw new ValidationFailed(`manifest lists "${e.path}" twice`, { path: e.path });
    lines.push(JSON.stringify({ path: e.path, sha256: e.sha256, size: e.size }));
  }
  return Buffer.from(lines.length ? `${lines.join('\n')}\n` : '', 'utf8');
}

export const manifestSha256 = (encoded: Buffer) => createHash('sha256').update(encoded).digest('hex');

/** Parses and checks a manifest as `encodeManifest` writes it; anything else is refused with its line. */
export function parseManifest(text: string): ManifestEntry[] {
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new ValidationFailed('a manifest ends with a newline', { field: 'manifest' });
  const lines = text.slice(0, -1).split('\n');
  const entries: ManifestEntry[] = new Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const plain = PLAIN_LINE.exec(lines[i]!);
    if (plain) {
      // Canonical as it stands: nothing in it that JSON.stringify would write otherwise.
      const path = validateManifestPath(plain[1]);
      const size = Number(plain[3]);
      if (!Number.isSafeInteger(size)) throw new ValidationFailed(`manifest line ${i + 1} needs a SHA-256 and a non-negative size`, { field: 'manifest', line: i + 1 });
      if (i > 0 && !(entries[i - 1]!.path < path))
        throw new ValidationFailed(`manifest line ${i + 1} is out of order or repeats a path`, { field: 'manifest', line: i + 1 });
      entries[i] = { path, size, sha256: plain[2]! };
      continue;
    }
    let e: Partial<ManifestEntry>;
    try {
      e = JSON.parse(lines[i]!) as Partial<ManifestEntry>;
    } catch {
      throw new ValidationFailed(`manifest line ${i + 1} is not JSON`, { field: 'manifest', line: i + 1 });
    }
    const path = validateManifestPath(e.path);
    if (typeof e.sha256 !== 'string' || !SHA256.test(e.sha256) || typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0)
      throw new ValidationFailed(`manifest line ${i + 1} needs a SHA-256 and a non-negative size`, { field: 'manifest', line: i + 1 });
    if (i > 0 && !(entries[i - 1]!.path < path))
      throw new ValidationFailed(`manifest line ${i + 1} is out of order or repeats a path`, { field: 'manifest', line: i + 1 });
    // Each line as `encodeManifest` writes it: with the order checked above, the whole text is
    // then canonical, without sorting and re-encoding it all (a visible share of a 100k-file commit).
    if (JSON.stringify({ path, sha256: e.sha256, size: e.size }) !== lines[i])
      throw new ValidationFailed('a manifest must be canonical: sorted keys, no extra fields or spaces', { field: 'manifest' });
    entries[i] = { path, size: e.size, sha256: e.sha256 };
  }
  return entries;
}
