import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBlobBatch } from '@chronicle/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { FileChanged, FRAME_SLOT_BYTES, frameFiles, hashFile, selectFrames } from './read-files.js';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-read-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const file = (name: string, content: Buffer | string) => {
  const absolute = join(dir, name);
  writeFileSync(absolute, content);
  return { absolute, size: Buffer.byteLength(content) };
};

describe('frameFiles', () => {
  it('reads files into the batch wire format, hashing each, as the SDK encodes it', () => {
    const contents = [Buffer.from('first file'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('last')];
    const files = contents.map((c, i) => file(`f${i}`, c));
    const { hashes, body } = frameFiles(files);
    expect(hashes).toEqual(contents.map((c) => sha256(c)));
    expect(Buffer.from(body).equals(Buffer.from(encodeBlobBatch(contents.map((bytes, i) => ({ sha256: hashes[i]!, bytes })))))).toBe(true);
    expect(hashFile(files[2]!.absolute, files[2]!.size)).toBe(hashes[2]);
  });

  it('frames into a shared slot of the hashing pool: a full group of the largest batched files fits', () => {
    const contents = Array.from({ length: 2 }, (_, i) => Buffer.alloc(1024 * 1024, i + 1));
    const files = contents.map((c, i) => file(`slot${i}`, c));
    const slot = new SharedArrayBuffer(FRAME_SLOT_BYTES);
    const { hashes, body } = frameFiles(files, slot);
    expect(body.buffer).toBe(slot);
    expect(Buffer.from(body).equals(Buffer.from(encodeBlobBatch(contents.map((bytes, i) => ({ sha256: hashes[i]!, bytes })))))).toBe(true);
  });

  it('refuses a file that grew or shrank since it was listed', () => {
    const grown = file('grown', 'twelve bytes');
    const shrunk = file('shrunk', 'twelve bytes');
    expect(() => frameFiles([{ ...grown, size: 11 }])).toThrow(FileChanged);
    expect(() => frameFiles([{ ...shrunk, size: 13 }])).toThrow(/changed while being committed/);
    expect(() => hashFile(grown.absolute, 11)).toThrow(FileChanged);
  });
});

describe('selectFrames', () => {
  const items = ['a', 'bb', '', 'dddd'].map((s) => ({ sha256: sha256(s), bytes: Buffer.from(s) }));
  const body = encodeBlobBatch(items);
  const sizes = items.map((it) => it.bytes.length);

  it('keeps the chosen items in order, and answers the body itself when it keeps all', () => {
    expect(selectFrames(body, sizes, [true, false, true, true])).toEqual(encodeBlobBatch([items[0]!, items[2]!, items[3]!]));
    expect(selectFrames(body, sizes, [true, true, true, true])).toBe(body);
    expect(selectFrames(body, sizes, [false, false, false, false])).toHaveLength(0);
  });
});
