import { hash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationFailed } from '@chronicle/domain';
import { syncDirectory, writeAll } from './durable-fs.js';

/**
 * Small blobs stored many to a file, as git and restic do: a dataset of 100,000 files of a
 * few kilobytes would otherwise cost 100,000 files, each created, fsynced and linked. A pack
 * is the blobs' bytes back to back (`<id>.pack`); its index (`<id>.idx`) lists, for each blob,
 * its SHA-256 (32 bytes), offset and size (64-bit big-endian each). The index is written,
 * fsynced and renamed into place only once the pack is durable, so a blob is listed only
 * when its bytes are on disk; a crash in between leaves an unlisted pack, never a listed hole.
 */
export interface PackEntry {
  pack: string;
  offset: number;
  size: number;
}

export interface PackItem {
  sha256: string;
  bytes: Buffer;
}

const ENTRY_BYTES = 48;
/** Packs written by another process are noticed at most this late. */
const RESCAN_AFTER_MS = 1000;

/**
 * Writes the buffers back to back with vectored writes: the items are views of the request's
 * chunks, and gathering them in the kernel measured about twice as fast as copying them into
 * one buffer first (libuv splits the list at IOV_MAX and resumes short writes itself).
 */
async function writevAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  for (;;) {
    let want = 0;
    for (const b of rest) want += b.length;
    if (want === 0) return;
    let { bytesWritten } = await fh.writev(rest);
    if (bytesWritten === want) return;
    // A short write all the same: go on from where it stopped.
    let i = 0;
    while (bytesWritten >= rest[i]!.length) bytesWritten -= rest[i++]!.length;
    rest = [rest[i]!.subarray(bytesWritten), ...rest.slice(i + 1)];
  }
}

/** A safe integer as an unsigned 64-bit big-endian number, without a BigInt per call. */
function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / 0x1_0000_0000), at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

export class PackStore {
  private readonly entries = new Map<string, PackEntry>();
  private readonly loaded = new Set<string>();
  private scannedAt = 0;

  constructor(private readonly dir: string) {
    this.scan();
  }

  pathOf(pack: string): string {
    return join(this.dir, `${pack}.pack`);
  }

  /** The blob's place in a pack, if a pack holds it. Looks for packs written by another process on a miss. */
  lookup(sha256: string): PackEntry | undefined {
    const hit = this.entries.get(sha256);
    if (hit) return hit;
    // Existence checks of thousands of absent blobs must not each list the directory.
    if (Date.now() - this.scannedAt < RESCAN_AFTER_MS) return undefined;
    return this.scan() > 0 ? this.entries.get(sha256) : undefined;
  }

  /**
   * Writes one pack of the items not stored yet (`isStored` says which are) and returns, per
   * item, whether this call stored it. Every item is hashed here: bytes that do not match
   * their declared SHA-256 fail the whole call before anything is listed.
   */
  async write(items: readonly PackItem[], isStored: (sha256: string) => boolean): Promise<boolean[]> {
    const created = items.map(() => false);
    const fresh = new Map<string, number>();
    for (const [i, item] of items.entries()) {
      const actual = hash('sha256', item.bytes);
      if (actual !== item.sha256)
        throw new ValidationFailed(`item ${i} hashes to ${actual}, not the ${item.sha256} it was sent with`, {
          item: i,
          expected: item.sha256,
          actual,
        });
      if (!fresh.has(item.sha256) && !isStored(item.sha256)) fresh.set(item.sha256, i);
    }
    if (fresh.size === 0) return created;

    await mkdir(this.dir, { recursive: true });
    const id = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    const index = Buffer.alloc(fresh.size * ENTRY_BYTES);
    const placed: Array<[string, PackEntry]> = [];
    const fh = await open(this.pathOf(id), 'wx', 0o644);
    try {
      let offset = 0;
      const bodies: Buffer[] = [];
      for (const i of fresh.values()) {
        const { sha256, bytes } = items[i]!;
        const at = placed.length * ENTRY_BYTES;
        index.write(sha256, at, 32, 'hex');
        writeU64(index, offset, at + 32);
        writeU64(index, bytes.length, at + 40);
        placed.push([sha256, { pack: id, offset, size: bytes.length }]);
        offset += bytes.length;
        bodies.push(bytes);
      }
      await writevAll(fh, bodies);
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await unlink(this.pathOf(id)).catch(() => undefined);
      throw e;
    }
    await fh.close();

    const tmpIndex = join(this.dir, `${id}.idx.tmp`);
    const ih = await open(tmpIndex, 'wx', 0o644);
    try {
      await writeAll(ih, index);
      await ih.sync();
    } finally {
      await ih.close();
    }
    await rename(tmpIndex, join(this.dir, `${id}.idx`));
    await syncDirectory(this.dir);

    this.loaded.add(id);
    for (const [sha256, entry] of placed) {
      // Two concurrent packs may both hold a blob: the first listed wins, both are whole.
      if (!this.entries.has(sha256)) {
        this.entries.set(sha256, entry);
        created[fresh.get(sha256)!] = true;
      }
    }
    return created;
  }

  /** Loads the indexes not seen yet; returns how many entries it added. */
  private scan(): number {
    this.scannedAt = Date.now();
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return 0;
    }
    let added = 0;
    for (const name of names) {
      if (!name.endsWith('.idx')) continue;
      const id = name.slice(0, -4);
      if (this.loaded.has(id)) continue;
      const index = readFileSync(join(this.dir, name));
      for (let at = 0; at + ENTRY_BYTES <= index.length; at += ENTRY_BYTES) {
        const sha256 = index.toString('hex', at, at + 32);
        if (this.entries.has(sha256)) continue;
        this.entries.set(sha256, {
          pack: id,
          offset: Number(index.readBigUInt64BE(at + 32)),
          size: Number(index.readBigUInt64BE(at + 40)),
        });
        added++;
      }
      this.loaded.add(id);
    }
    return added;
  }
}
