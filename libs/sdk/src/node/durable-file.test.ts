import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createDurableFileWriter } from './durable-file.js';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-durable-'));

describe('durable file writer', () => {
  it('writes every chunk in order across gathered writes and periodic flushes', async () => {
    // 70 MiB in uneven chunks: crosses the 1 MiB write size and the 64 MiB flush point.
    const chunks = Array.from({ length: 1100 }, (_, i) => Buffer.alloc(65_536 + (i % 7), i % 256));
    const path = join(dir, 'big.bin');
    await pipeline(Readable.from(chunks), createDurableFileWriter(path));
    expect(readFileSync(path).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('writes an empty file, and fails (without a hang) when the file cannot be opened', async () => {
    const empty = join(dir, 'empty.bin');
    await pipeline(Readable.from([]), createDurableFileWriter(empty));
    expect(readFileSync(empty)).toHaveLength(0);
    await expect(pipeline(Readable.from([Buffer.from('x')]), createDurableFileWriter(join(dir, 'no', 'such', 'dir.bin')))).rejects.toThrow(/ENOENT/);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });
});
