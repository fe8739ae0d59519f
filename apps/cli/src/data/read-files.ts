import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** Each batch-upload item: its SHA-256 (32 raw bytes), its size (u64 big-endian), then its bytes. */
export const FRAME_HEADER = 40;
/**
 * Framed bodies are at least this large, so the main thread can hand any of them back to be
 * filled again: a new buffer per group of files made the main thread's collector run
 * after every few dozen megabytes moved.
 */
export const FRAME_BUFFER_BYTES = 4 * 1024 * 1024;
/**
 * The shared body buffers of the hashing pool: one group of small files (at most 2 MiB of
 * bytes and 256 files, see upload-tree.ts) fits, frame headers and the spare byte included.
 */
export const FRAME_SLOT_BYTES = 2 * 1024 * 1024 + 256 * FRAME_HEADER + 1;
// Whole-file reads are fastest for small files; large ones go through one reused buffer.
const WHOLE_FILE_MAX = 8 * 1024 * 1024;
let chunk: Buffer | null = null;

/**
 * Reads up to `length` bytes of a file into `into` at `offset`; answers how many there were.
 * A regular file answers a read in full unless it ends first, so asking for one byte more than
 * expected takes one read in the usual case, and a second only after a short one.
 */
function readInto(path: string, into: Buffer, offset: number, length: number): number {
  const fd = openSync(path, 'r');
  try {
    let n = readSync(fd, into, offset, length, null);
    if (n < length - 1) for (let r = 1; r > 0 && n < length; n += r) r = readSync(fd, into, offset + n, length - n, null);
    return n;
  } finally {
    closeSync(fd);
  }
}

export class FileChanged extends Error {}

const changed = (path: string, listed: number, read: number) =>
  new FileChanged(`${path} changed while being committed (${listed} bytes when listed, ${read > listed ? 'more' : read} now); commit again`);

export function hashFile(path: string, size: number): string {
  const hash = createHash('sha256');
  if (size <= WHOLE_FILE_MAX) {
    const bytes = Buffer.allocUnsafe(size + 1);
    const n = readInto(path, bytes, 0, size + 1);
    if (n !== size) throw changed(path, size, n);
    return hash.update(bytes.subarray(0, n)).digest('hex');
  }
  chunk ??= Buffer.allocUnsafe(4 * 1024 * 1024);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Reads small files straight into one batch-upload body, hashing each in place: every file is
 * read once, and the bytes that were hashed are the bytes sent. A file whose size differs from
 * the listed one changed since the walk (reading one byte more than listed tells a grown file).
 */
export function frameFiles(files: readonly { absolute: string; size: number }[], reuse?: ArrayBuffer | SharedArrayBuffer): { hashes: string[]; body: Uint8Array } {
  let total = 0;
  for (const f of files) total += FRAME_HEADER + f.size;
  // A buffer handed back by the main thread if it is large enough; a new one is not from the
  // shared pool, since its whole ArrayBuffer is handed to the main thread.
  const body =
    reuse && reuse.byteLength > total ? Buffer.from(reuse) : Buffer.from(new ArrayBuffer(Math.max(total + 1, FRAME_BUFFER_BYTES)));
  const hashes: string[] = new Array(files.length);
  let at = 0;
  for (const [i, f] of files.entries()) {
    const start = at + FRAME_HEADER;
    // The spare byte lands on the next item's header, written after it.
    const n = readInto(f.absolute, body, start, f.size + 1);
    if (n !== f.size) throw changed(f.absolute, f.size, n);
    const digest = createHash('sha256').update(body.subarray(start, start + f.size)).digest();
    digest.copy(body, at);
    // The size as u64 big-endian in two halves: a BigInt per file was a visible share of the work.
    body.writeUInt32BE(Math.floor(f.size / 0x1_0000_0000), at + 32);
    body.writeUInt32BE(f.size >>> 0, at + 36);
    hashes[i] = digest.toString('hex');
    at = start + f.size;
  }
  return { hashes, body: new Uint8Array(body.buffer, 0, total) };
}

/** The items of a framed body that `keep` selects, in order; the body itself when it keeps all. */
export function selectFrames(body: Uint8Array, sizes: readonly number[], keep: readonly boolean[]): Uint8Array {
  let kept = 0;
  for (const [i, size] of sizes.entries()) if (keep[i]) kept += FRAME_HEADER + size;
  if (kept === body.length) return body;
  const out = new Uint8Array(kept);
  let from = 0;
  let to = 0;
  for (const [i, size] of sizes.entries()) {
    const len = FRAME_HEADER + size;
    if (keep[i]) {
      out.set(body.subarray(from, from + len), to);
      to += len;
    }
    from += len;
  }
  return out;
}
