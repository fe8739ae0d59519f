/** A stored chunk column (packed little-endian float64s) as numbers; copied, so aligned. */
export const asF64 = (b: Buffer) => new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/** Numbers as a chunk column to store, without a copy. */
export const f64 = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
