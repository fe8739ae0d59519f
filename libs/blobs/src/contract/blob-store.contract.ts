import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { NotFound, ValidationFailed } from '@chronicle/domain';
import { describe, expect, it } from 'vitest';
import { BlobCorrupted, type BlobStore } from '../port.js';

export interface BlobStoreUnderTest {
  store: BlobStore;
  /** Changes the stored bytes of a blob behind the store's back, as a failing disk would. */
  corrupt(sha256: string): Promise<void>;
}

const sha256Of = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A deterministic stream of `size` bytes made chunk by chunk, with its hash known once it has been read. */
export function generatedContent(size: number, seed = 1): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  const chunkSize = 1 << 20;
  let produced = 0;
  let digest: string | null = null;
  async function* chunks() {
    while (produced < size) {
      const n = Math.min(chunkSize, size - produced);
      const chunk = Buffer.alloc(n, (seed * 31 + produced / chunkSize) % 251);
      chunk.writeUInt32LE(produced, 0);
      produced += n;
      hash.update(chunk);
      yield chunk;
    }
    digest = hash.digest('hex');
  }
  return {
    stream: Readable.from(chunks()),
    digest: () => {
      if (digest === null) throw new Error('the content has not been read to its end yet');
      return digest;
    },
  };
}

/** The behaviour every BlobStore adapter must have; each adapter's test runs it with its own factory. */
export const blobStoreContract = (name: string, open: () => Promise<BlobStoreUnderTest>) =>
  describe(`${name} honours the BlobStore port`, () => {
    it('stores content under its SHA-256 and gives it back', async () => {
      const { store } = await open();
      const put = await store.put(Readable.from([Buffer.from('hello '), Buffer.from('world')]));
      expect(put).toEqual({ sha256: sha256Of('hello world'), size: 11, created: true });
      expect(await store.has(put.sha256)).toBe(true);
      expect(await store.stat(put.sha256)).toEqual({ sha256: put.sha256, size: 11 });
      expect((await readAll(await store.get(put.sha256))).toString()).toBe('hello world');
    });

    it('stores the same content once', async () => {
      const { store } = await open();
      const first = await store.put(Readable.from([Buffer.from('same bytes')]));
      const second = await store.put(Readable.from([Buffer.from('same '), Buffer.from('bytes')]));
      expect(second).toEqual({ ...first, created: false });
    });

    it('lets exactly one of two concurrent puts of one content create it', async () => {
      const { store } = await open();
      const results = await Promise.all([1, 2, 3].map(() => store.put(Readable.from([Buffer.from('raced content')]))));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.sha256)).size).toBe(1);
    });

    it('stores an empty blob', async () => {
      const { store } = await open();
      const put = await store.put(Readable.from([]));
      expect(put).toMatchObject({ sha256: sha256Of(''), size: 0 });
      expect(await readAll(await store.get(put.sha256))).toHaveLength(0);
    });

    it('streams a large content through without holding it', async () => {
      const { store } = await open();
      const content = generatedContent(48 * 1024 * 1024, 7);
      const put = await store.put(content.stream);
      expect(put.sha256).toBe(content.digest());
      expect(put.size).toBe(48 * 1024 * 1024);
      const hash = createHash('sha256');
      for await (const chunk of await store.get(put.sha256, { verify: true })) hash.update(chunk as Buffer);
      expect(hash.digest('hex')).toBe(put.sha256);
    });

    it('reads a byte range', async () => {
      const { store } = await open();
      const put = await store.put(Readable.from([Buffer.from('0123456789')]));
      expect((await readAll(await store.get(put.sha256, { range: { start: 2, end: 5 } }))).toString()).toBe('2345');
      expect((await readAll(await store.get(put.sha256, { range: { start: 7 } }))).toString()).toBe('789');
      await expect(store.get(put.sha256, { range: { start: 5, end: 10 } })).rejects.toBeInstanceOf(ValidationFailed);
    });

    it('answers NotFound and null for an unknown blob, and refuses a malformed address', async () => {
      const { store } = await open();
      const unknown = sha256Of('never stored');
      await expect(store.get(unknown)).rejects.toBeInstanceOf(NotFound);
      expect(await store.has(unknown)).toBe(false);
      expect(await store.stat(unknown)).toBeNull();
      await expect(store.get('../../etc/passwd')).rejects.toBeInstanceOf(ValidationFailed);
    });

    it('answers the stat of many blobs at once, in order, stored loose or in a batch', async () => {
      const { store } = await open();
      const loose = await store.put(Readable.from([Buffer.from('stored alone')]));
      const [packed] = await store.putMany([{ sha256: sha256Of('stored in a batch'), bytes: Buffer.from('stored in a batch') }]);
      const unknown = sha256Of('never stored');
      expect(await store.statMany([unknown, packed!.sha256, loose.sha256, unknown])).toEqual([
        null,
        { sha256: packed!.sha256, size: 17 },
        { sha256: loose.sha256, size: 12 },
        null,
      ]);
      expect(await store.statMany([])).toEqual([]);
      await expect(store.statMany([unknown, '../../etc/passwd'])).rejects.toBeInstanceOf(ValidationFailed);
    });

    it('stores nothing when the content is over the limit or not the expected one', async () => {
      const { store } = await open();
      const big = Buffer.alloc(1000, 1);
      await expect(store.put(Readable.from([big]), { maxBytes: 999 })).rejects.toBeInstanceOf(ValidationFailed);
      expect(await store.has(sha256Of(big))).toBe(false);
      await expect(store.put(Readable.from([big]), { expectedSha256: sha256Of('other') })).rejects.toBeInstanceOf(
        ValidationFailed,
      );
      expect(await store.has(sha256Of(big))).toBe(false);
    });

    it('stores nothing when the content stream fails midway', async () => {
      const { store } = await open();
      async function* failing() {
        yield Buffer.from('partial');
        throw new Error('connection lost');
      }
      await expect(store.put(Readable.from(failing()))).rejects.toThrow('connection lost');
      expect(await store.has(sha256Of('partial'))).toBe(false);
    });

    it('detects a corrupt blob instead of serving it silently', async () => {
      const { store, corrupt } = await open();
      const put = await store.put(Readable.from([Buffer.from('precious model weights')]));
      expect(await store.verify(put.sha256)).toBe(true);
      await corrupt(put.sha256);
      expect(await store.verify(put.sha256)).toBe(false);
      await expect(readAll(await store.get(put.sha256, { verify: true }))).rejects.toBeInstanceOf(BlobCorrupted);
    });

    it('stores many small blobs at once, each readable alone, and each content once', async () => {
      const { store } = await open();
      const files = Array.from({ length: 200 }, (_, i) => Buffer.from(`file ${i} `.repeat(1 + (i % 50))));
      const items = files.map((bytes) => ({ sha256: sha256Of(bytes), bytes }));
      const first = await store.putMany([...items, items[0]!]);
      expect(first.map((r) => r.created)).toEqual([...items.map(() => true), false]);
      for (const [i, bytes] of files.entries()) {
        expect(await store.stat(items[i]!.sha256)).toEqual({ sha256: items[i]!.sha256, size: bytes.length });
        expect((await readAll(await store.get(items[i]!.sha256, { verify: true }))).equals(bytes)).toBe(true);
      }
      expect((await readAll(await store.get(items[7]!.sha256, { range: { start: 2, end: 5 } }))).toString()).toBe(files[7]!.subarray(2, 6).toString());
      // Stored already, whichever way it came in.
      const again = await store.putMany([items[3]!, { sha256: sha256Of('new'), bytes: Buffer.from('new') }]);
      expect(again.map((r) => r.created)).toEqual([false, true]);
      expect((await store.put(Readable.from([files[5]!]))).created).toBe(false);
    });

    it('stores nothing of a batch in which one item is not the content it claims', async () => {
      const { store } = await open();
      const good = Buffer.from('good item');
      const lying = { sha256: sha256Of('what it claims'), bytes: Buffer.from('what it is') };
      await expect(store.putMany([{ sha256: sha256Of(good), bytes: good }, lying])).rejects.toBeInstanceOf(ValidationFailed);
      expect(await store.has(sha256Of(good))).toBe(false);
      expect(await store.has(lying.sha256)).toBe(false);
    });

    it('detects a corrupt blob stored in a batch', async () => {
      const { store, corrupt } = await open();
      const bytes = Buffer.from('batched weights');
      const [put] = await store.putMany([{ sha256: sha256Of(bytes), bytes }, { sha256: sha256Of('neighbour'), bytes: Buffer.from('neighbour') }]);
      await corrupt(put!.sha256);
      expect(await store.verify(put!.sha256)).toBe(false);
      await expect(readAll(await store.get(put!.sha256, { verify: true }))).rejects.toBeInstanceOf(BlobCorrupted);
      expect(await store.verify(sha256Of('neighbour'))).toBe(true);
    });
  });
