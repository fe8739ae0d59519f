import { createHash } from 'node:crypto';
import { ValidationFailed } from '@chronicle/domain';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_BYTES, PayloadTooLarge, readBatch } from './blob-batch.js';

const frame = (items: Buffer[]) =>
  Buffer.concat(
    items.flatMap((bytes) => {
      const size = Buffer.alloc(8);
      size.writeBigUInt64BE(BigInt(bytes.length));
      return [createHash('sha256').update(bytes).digest(), size, bytes];
    }),
  );
async function* chunked(body: Buffer, sizes: number[]) {
  for (let at = 0, i = 0; at < body.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield body.subarray(at, at + n);
    at += n;
  }
}
async function readAll(body: AsyncIterable<Buffer>) {
  const out: { index: number; sha256: string; bytes: string }[] = [];
  for await (const it of readBatch(body)) out.push({ index: it.index, sha256: it.sha256, bytes: it.bytes.toString() });
  return out;
}

describe('readBatch', () => {
  const items = ['one', '', 'a somewhat longer third item', 'x'.repeat(5000), 'last'].map((s) => Buffer.from(s));
  const expected = items.map((b, index) => ({ index, sha256: createHash('sha256').update(b).digest('hex'), bytes: b.toString() }));

  it('splits a body into its items however the bytes are chunked', async () => {
    for (const sizes of [[1], [7, 3], [39, 41], [40], [64 * 1024], [13, 1, 4999, 2]]) expect(await readAll(chunked(frame(items), sizes))).toEqual(expected);
  });

  it('refuses a body that ends inside a header or an item', async () => {
    const body = frame(items);
    for (const end of [20, 45, body.length - 1])
      await expect(readAll(chunked(body.subarray(0, end), [16]))).rejects.toThrow(ValidationFailed);
  });

  it('refuses an item declaring more than a batch may carry', async () => {
    const header = Buffer.alloc(40);
    header.writeBigUInt64BE(BigInt(MAX_BATCH_BYTES) + 1n, 32);
    await expect(readAll(chunked(header, [40]))).rejects.toBeInstanceOf(PayloadTooLarge);
    // Sizes past 32 bits, whose low word alone would look small.
    for (const size of [2n ** 32n + 5n, 2n ** 63n]) {
      header.writeBigUInt64BE(size, 32);
      await expect(readAll(chunked(Buffer.concat([header, Buffer.alloc(5)]), [45]))).rejects.toThrow(`declares ${size} bytes`);
    }
  });
});
