import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { blobStoreContract } from '../contract/blob-store.contract.js';
import { createLocalBlobStore } from './local-blob-store.js';
import { BlobCorrupted } from '../port.js';
import { ValidationFailed } from '@chronicle/domain';

const freshRoot = () => mkdtempSync(join(tmpdir(), 'chronicle-blobs-'));
const blobPath = (root: string, sha256: string) => join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);

blobStoreContract('local directory', async () => {
  const root = freshRoot();
  return {
    store: createLocalBlobStore({ root }),
    // A blob lives in its own file or in a pack: tamper with whichever holds it.
    corrupt: async (sha256) => {
      const own = blobPath(root, sha256);
      if (existsSync(own)) return writeFile(own, 'tampered bytes of the same blob');
      for (const name of await readdir(join(root, 'packs'))) {
        if (!name.endsWith('.idx')) continue;
        const index = await readFile(join(root, 'packs', name));
        for (let at = 0; at < index.length; at += 48) {
          if (index.toString('hex', at, at + 32) !== sha256) continue;
          const fh = await open(join(root, 'packs', name.replace(/\.idx$/, '.pack')), 'r+');
          await fh.write(Buffer.from('X'), 0, 1, Number(index.readBigUInt64BE(at + 32)));
          return fh.close();
        }
      }
      throw new Error(`blob ${sha256} is not stored`);
    },
  };
});

describe('local blob store layout', () => {
  it('keeps blobs in <root>/ab/cd/<sha256> and leaves no temporary file behind', async () => {
    const root = freshRoot();
    const store = createLocalBlobStore({ root });
    const { sha256 } = await store.put(Readable.from([Buffer.from('layout')]));
    expect(await readdir(join(root, sha256.slice(0, 2), sha256.slice(2, 4)))).toEqual([sha256]);
    await store.put(Readable.from([Buffer.from('layout')]));
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });
});

describe('local blob store packs', () => {
  it('lets another store on the same directory read blobs packed after it opened', async () => {
    const root = freshRoot();
    const reader = createLocalBlobStore({ root });
    const writer = createLocalBlobStore({ root });
    const bytes = Buffer.from('written by the server, read by another process');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await writer.putMany([{ sha256, bytes }]);
    // The reader rescans the packs directory at most once a second.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await reader.stat(sha256)).toEqual({ sha256, size: bytes.length });
  });

  it('finds a loose blob in a new directory: its own at once, another store\'s after the rescan; neither is packed again', async () => {
    const root = freshRoot();
    const store = createLocalBlobStore({ root });
    const other = createLocalBlobStore({ root });
    const blob = (text: string) => {
      const bytes = Buffer.from(text);
      return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes };
    };
    const own = blob('put loose by this store');
    const theirs = blob('put loose by another store');
    // The first existence check lists the (empty) blob directories.
    expect(await store.statMany([own.sha256, theirs.sha256])).toEqual([null, null]);
    await store.put(Readable.from([own.bytes]));
    await other.put(Readable.from([theirs.bytes]));
    expect(await store.statMany([own.sha256])).toEqual([{ sha256: own.sha256, size: own.bytes.length }]);
    // Directories made by another process are listed again at most once a second.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await store.statMany([theirs.sha256])).toEqual([{ sha256: theirs.sha256, size: theirs.bytes.length }]);
    expect((await store.putMany([own, theirs])).map((r) => r.created)).toEqual([false, false]);
  });

  it('lists a pack only once its bytes are written: an unlisted pack is ignored', async () => {
    const root = freshRoot();
    const store = createLocalBlobStore({ root });
    const bytes = Buffer.from('half-written');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await store.putMany([{ sha256, bytes }]);
    const packs = await readdir(join(root, 'packs'));
    expect(packs.filter((n) => n.endsWith('.idx'))).toHaveLength(1);
    expect(packs.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // A crash before the index was renamed leaves a pack without one: a fresh store lists nothing.
    const root2 = freshRoot();
    await mkdir(join(root2, 'packs'));
    await writeFile(join(root2, 'packs', 'orphan.pack'), bytes);
    expect(await createLocalBlobStore({ root: root2 }).has(sha256)).toBe(false);
  });
});

describe('local blob store, content hashed on the hashing thread (over 8 MiB)', () => {
  const big = Buffer.alloc(24 << 20);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const chunks = (b: Buffer) => Array.from({ length: Math.ceil(b.length / 65_536) }, (_, i) => b.subarray(i * 65_536, (i + 1) * 65_536));
  const digest = createHash('sha256').update(big).digest('hex');

  it('stores it under its SHA-256 (flushed to disk as it arrives) and detects one flipped byte deep inside it', async () => {
    const root = freshRoot();
    const store = createLocalBlobStore({ root, flushEveryBytes: 4 << 20 });
    const put = await store.put(Readable.from(chunks(big)));
    expect(put).toEqual({ sha256: digest, size: big.length, created: true });
    expect(await store.verify(digest)).toBe(true);
    const fh = await open(blobPath(root, digest), 'r+');
    await fh.write(Buffer.from([big[20 << 20]! ^ 0xff]), 0, 1, 20 << 20);
    await fh.close();
    expect(await store.verify(digest)).toBe(false);
    await expect(readAll(await store.get(digest, { verify: true }))).rejects.toBeInstanceOf(BlobCorrupted);
  });

  it('refuses content that is not the expected one, and keeps nothing of a stream cut after 8 MiB', async () => {
    const root = freshRoot();
    const store = createLocalBlobStore({ root });
    await expect(store.put(Readable.from(chunks(big)), { expectedSha256: 'a'.repeat(64) })).rejects.toBeInstanceOf(ValidationFailed);
    async function* cut() {
      yield* chunks(big.subarray(0, 16 << 20));
      throw new Error('connection lost');
    }
    await expect(store.put(Readable.from(cut()))).rejects.toThrow('connection lost');
    expect(await store.has(digest)).toBe(false);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    // The hashing thread is still at work for the next upload.
    expect((await store.put(Readable.from(chunks(big)))).sha256).toBe(digest);
  });
});

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('local blob store, same-host files', () => {
  it('imports a copy of a file (later changes to the source do not reach it) and names the file of a loose blob', async () => {
    const root = freshRoot();
    const store = createLocalBlobStore({ root });
    const source = join(root, '..', `${Date.now()}-source.bin`);
    const bytes = Buffer.alloc(10 << 20, 3);
    await writeFile(source, bytes);
    const digest = createHash('sha256').update(bytes).digest('hex');
    expect(await store.importFile(source)).toEqual({ sha256: digest, size: bytes.length, created: true });
    await writeFile(source, 'changed afterwards');
    expect(await store.verify(digest)).toBe(true);
    expect(store.localFile(digest)).toEqual({ path: blobPath(root, digest), size: bytes.length });
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    // The same content again, small content, limits, a wrong expectation, a missing source.
    await writeFile(source, bytes);
    expect((await store.importFile(source)).created).toBe(false);
    await writeFile(source, 'small');
    expect(await store.importFile(source)).toMatchObject({ sha256: createHash('sha256').update('small').digest('hex'), size: 5 });
    await expect(store.importFile(source, { maxBytes: 4 })).rejects.toBeInstanceOf(ValidationFailed);
    await expect(store.importFile(source, { expectedSha256: 'b'.repeat(64) })).rejects.toBeInstanceOf(ValidationFailed);
    await expect(store.importFile(join(root, 'missing'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('names no file for a packed or unknown blob', async () => {
    const store = createLocalBlobStore({ root: freshRoot() });
    const bytes = Buffer.from('packed with others');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await store.putMany([{ sha256, bytes }]);
    expect(store.localFile(sha256)).toBeNull();
    expect(store.localFile('c'.repeat(64))).toBeNull();
  });
});
