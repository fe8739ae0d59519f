import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { NotFound, ValidationFailed } from '@chronicle/domain';
import { BlobCorrupted, BlobTooLarge, validSha256, type BlobInfo, type BlobStore, type GetOptions, type PutOptions } from '../port.js';

export interface LocalBlobStoreOptions {
  /** Directory of the store: blobs live in `<root>/ab/cd/<sha256>`, uploads in progress in `<root>/tmp`. */
  root: string;
}

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';

/**
 * A content-addressed store in a local directory. A put streams into a temporary file while
 * hashing, fsyncs it, and links it under its hash: a blob is either absent or complete and
 * durable, never half-written, and the same content is stored once.
 */
export function createLocalBlobStore(opts: LocalBlobStoreOptions): BlobStore {
  const tmpDir = join(opts.root, 'tmp');
  const pathOf = (sha256: string) => join(opts.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  // Directories are never removed while the store is open: a mkdir per put (thousands for a
  // dataset of small files) is only paid once per directory.
  const madeDirs = new Set<string>();
  async function ensureDir(dir: string): Promise<void> {
    if (madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    madeDirs.add(dir);
  }

  async function syncDirectory(dir: string): Promise<void> {
    // The new directory entry must survive a crash too, not only the file's bytes.
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async function statBlob(sha256: string): Promise<BlobInfo | null> {
    try {
      const s = await stat(pathOf(validSha256(sha256)));
      return { sha256, size: s.size };
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
  }

  return {
    async put(content: Readable, putOpts: PutOptions = {}) {
      const maxBytes = putOpts.maxBytes ?? Number.POSITIVE_INFINITY;
      if (putOpts.expectedSha256 !== undefined) validSha256(putOpts.expectedSha256);
      await ensureDir(tmpDir);
      const tmp = join(tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
      const hash = createHash('sha256');
      let size = 0;
      const fh = await open(tmp, 'wx', 0o644);
      try {
        for await (const raw of content as AsyncIterable<Buffer | string>) {
          const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
          size += chunk.length;
          if (size > maxBytes) throw new BlobTooLarge(`the content is larger than ${maxBytes} bytes`, { maxBytes });
          hash.update(chunk);
          // Awaiting each write is the backpressure: the source is read no faster than the disk takes it.
          await fh.write(chunk);
        }
        await fh.sync();
      } catch (e) {
        await fh.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
        throw e;
      }
      await fh.close();
      const sha256 = hash.digest('hex');
      try {
        if (putOpts.expectedSha256 !== undefined && putOpts.expectedSha256 !== sha256)
          throw new ValidationFailed(`the content hashes to ${sha256}, not the expected ${putOpts.expectedSha256}`, {
            expected: putOpts.expectedSha256,
            actual: sha256,
          });
        const target = pathOf(sha256);
        const dir = join(target, '..');
        await ensureDir(dir);
        // link() fails if the name exists, unlike rename(): two puts of one content race safely
        // and exactly one of them reports it created the blob.
        try {
          await link(tmp, target);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { sha256, size, created: false };
          throw e;
        }
        await syncDirectory(dir);
        return { sha256, size, created: true };
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
    },

    async get(sha256: string, getOpts: GetOptions = {}) {
      const info = await statBlob(sha256);
      if (!info) throw new NotFound(`blob ${sha256} does not exist`, { sha256 });
      const { range, verify } = getOpts;
      if (range) {
        if (verify) throw new ValidationFailed('only whole reads can be verified');
        const end = range.end ?? info.size - 1;
        if (!Number.isSafeInteger(range.start) || range.start < 0 || end < range.start || end >= info.size)
          throw new ValidationFailed(`range ${range.start}-${range.end ?? ''} is outside the blob's ${info.size} bytes`, {
            size: info.size,
          });
        return createReadStream(pathOf(sha256), { start: range.start, end });
      }
      const file = createReadStream(pathOf(sha256));
      if (!verify) return file;
      const hash = createHash('sha256');
      const checked = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
        flush(done) {
          const actual = hash.digest('hex');
          done(actual === sha256 ? null : new BlobCorrupted(sha256, actual));
        },
      });
      file.on('error', (e) => checked.destroy(e));
      checked.on('close', () => file.destroy());
      return file.pipe(checked);
    },

    has: async (sha256: string) => (await statBlob(sha256)) !== null,

    stat: statBlob,

    async verify(sha256: string) {
      if (!(await statBlob(sha256))) throw new NotFound(`blob ${sha256} does not exist`, { sha256 });
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(pathOf(sha256))) hash.update(chunk as Buffer);
      return hash.digest('hex') === sha256;
    },
  };
}
