import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEntries, HashCache } from './hash-cache.js';

const h = (c: string) => c.repeat(64);
const stat = { size: 12_345, mtimeMs: 1_764_290_000_123.456, ino: 2 ** 40 + 7 };

describe('hash cache', () => {
  it('keeps hashes across runs, by path, size, mtime and inode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chronicle-hc-'));
    const cache = await HashCache.open(dir);
    cache.set('/data/é/a b.bin', stat, h('a'));
    cache.set('/data/z', { ...stat, size: 0 }, h('b'));
    await cache.save();
    const again = await HashCache.open(dir);
    expect(again.get('/data/é/a b.bin', stat)).toBe(h('a'));
    expect(again.get('/data/z', { ...stat, size: 0 })).toBe(h('b'));
    expect(again.get('/data/é/a b.bin', { ...stat, mtimeMs: stat.mtimeMs + 1 })).toBeUndefined();
    expect(again.get('/data/é/a b.bin', { ...stat, ino: 1 })).toBeUndefined();
  });

  it('reads the JSON cache of earlier versions once, and starts empty from a damaged file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chronicle-hc-'));
    writeFileSync(join(dir, 'hash-cache.v1.json'), JSON.stringify({ '/old': { ...stat, sha256: h('c') } }));
    const cache = await HashCache.open(dir);
    expect(cache.get('/old', stat)).toBe(h('c'));
    await cache.save();
    expect(existsSync(join(dir, 'hash-cache.v1.json'))).toBe(false);
    expect((await HashCache.open(dir)).get('/old', stat)).toBe(h('c'));

    const saved = readFileSync(join(dir, 'hash-cache.v2.bin'));
    expect(decodeEntries(saved.subarray(0, saved.length - 1))).toBeNull();
    writeFileSync(join(dir, 'hash-cache.v2.bin'), saved.subarray(0, saved.length - 1));
    expect((await HashCache.open(dir)).get('/old', stat)).toBeUndefined();
  });
});
