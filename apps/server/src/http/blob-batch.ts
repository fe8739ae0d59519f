import { ValidationFailed } from '@chronicle/domain';

/** Bytes one batch upload may carry, frame headers included: larger files go one by one through PUT. */
export const MAX_BATCH_BYTES = 64 * 1024 * 1024;
export const MAX_BATCH_ITEMS = 10_000;
/** Each batch item starts with its SHA-256 (32 raw bytes) and its size (unsigned 64-bit big-endian). */
const FRAME_HEADER = 40;

/** A request larger than the batch cap: 413, unlike a malformed one. */
export class PayloadTooLarge extends Error {
  readonly statusCode = 413;
}

export interface BatchItem {
  index: number;
  sha256: string;
  bytes: Buffer;
}

/**
 * Splits a batch body into its items as the bytes arrive. An item lying inside one network
 * chunk is a view of it (no copy); only one straddling chunks is assembled, into a buffer of
 * its own size. Copying the unconsumed tail of the stream at each chunk instead made the
 * copies cost more than the hashing.
 */
export async function* readBatch(body: AsyncIterable<Buffer | string>): AsyncGenerator<BatchItem> {
  let total = 0;
  let index = 0;
  // The header being read (40 bytes), then the item's bytes, filled across chunks.
  const header = Buffer.alloc(FRAME_HEADER);
  let headerFill = 0;
  let item: { sha256: string; bytes: Buffer; fill: number } | null = null;
  for await (const raw of body) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    total += chunk.length;
    if (total > MAX_BATCH_BYTES) throw new PayloadTooLarge(`a batch upload carries at most ${MAX_BATCH_BYTES} bytes; upload larger files with PUT /api/v1/blobs/:sha256`);
    while (chunk.length > 0) {
      if (!item) {
        let h: Buffer;
        if (headerFill === 0 && chunk.length >= FRAME_HEADER) {
          h = chunk;
          chunk = chunk.subarray(FRAME_HEADER);
        } else {
          const n = Math.min(FRAME_HEADER - headerFill, chunk.length);
          chunk.copy(header, headerFill, 0, n);
          headerFill += n;
          chunk = chunk.subarray(n);
          if (headerFill < FRAME_HEADER) break;
          h = header;
        }
        headerFill = 0;
        // Two 32-bit reads, not a BigInt per item: any size over 4 GiB has a high word.
        const high = h.readUInt32BE(32);
        const size = h.readUInt32BE(36);
        if (high > 0 || size > MAX_BATCH_BYTES)
          throw new PayloadTooLarge(`item ${index} declares ${h.readBigUInt64BE(32)} bytes; a batch upload carries at most ${MAX_BATCH_BYTES} bytes`);
        if (index >= MAX_BATCH_ITEMS) throw new PayloadTooLarge(`a batch upload carries at most ${MAX_BATCH_ITEMS} items`);
        const sha256 = h.toString('hex', 0, 32);
        if (chunk.length >= size) {
          yield { index: index++, sha256, bytes: chunk.subarray(0, size) };
          chunk = chunk.subarray(size);
          continue;
        }
        item = { sha256, bytes: Buffer.allocUnsafe(size), fill: 0 };
      }
      const n = Math.min(item.bytes.length - item.fill, chunk.length);
      chunk.copy(item.bytes, item.fill, 0, n);
      item.fill += n;
      chunk = chunk.subarray(n);
      if (item.fill === item.bytes.length) {
        yield { index: index++, sha256: item.sha256, bytes: item.bytes };
        item = null;
      }
    }
  }
  if (item || headerFill > 0)
    throw new ValidationFailed(`the batch ends inside item ${index}: each item is a 32-byte SHA-256, a 64-bit big-endian size, then that many bytes`, {
      item: index,
    });
}
