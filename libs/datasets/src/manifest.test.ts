import { Readable } from 'node:stream';
import { ValidationFailed } from '@chronicle/domain';
import { describe, expect, it } from 'vitest';
import { summarizeCsv } from './csv.js';
import { diffManifests } from './diff.js';
import { encodeManifest, parseManifest } from './manifest.js';

const h = (c: string) => c.repeat(64);

describe('manifest', () => {
  it('is canonical: the same files in any order give the same bytes, and parse back', () => {
    const a = encodeManifest([{ path: 'b/x y.txt', size: 2, sha256: h('b') }, { path: 'a/é.csv', size: 0, sha256: h('a') }]);
    const b = encodeManifest([{ path: 'a/é.csv', size: 0, sha256: h('a') }, { path: 'b/x y.txt', size: 2, sha256: h('b') }]);
    expect(a.equals(b)).toBe(true);
    expect(parseManifest(a.toString('utf8')).map((e) => e.path)).toEqual(['a/é.csv', 'b/x y.txt']);
  });
  it('refuses paths that escape the checkout directory, duplicates and non-canonical text', () => {
    for (const path of ['../x', '/etc/passwd', 'a//b', 'a/./b', 'a\\b'])
      expect(() => parseManifest(`${JSON.stringify({ path, sha256: h('a'), size: 1 })}\n`)).toThrow(ValidationFailed);
    expect(() => encodeManifest([{ path: 'a', size: 1, sha256: h('a') }, { path: 'a', size: 1, sha256: h('b') }])).toThrow(/twice/);
    expect(() => parseManifest(`{"size":1,"path":"a","sha256":"${h('a')}"}\n`)).toThrow(/canonical/);
    const line = (path: string) => JSON.stringify({ path, sha256: h('a'), size: 1 });
    for (const text of [
      `{"path":"a", "sha256":"${h('a')}","size":1}\n`,
      `{"path":"a","sha256":"${h('a')}","size":1,"x":0}\n`,
      `{"path":"\\u0061","sha256":"${h('a')}","size":1}\n`,
      `{"path":"a","sha256":"${h('a')}","size":1.0}\n`,
      `${line('a')}\r\n`,
      `${line('a')}\n${line('b')} \n`,
    ])
      expect(() => parseManifest(text)).toThrow(/canonical/);
    expect(() => parseManifest(`${line('b')}\n${line('a')}\n`)).toThrow(/out of order/);
    expect(() => parseManifest(`${line('a')}\n${line('a')}\n`)).toThrow(/out of order or repeats/);
    expect(() => parseManifest(`{"path":"a","sha256":"${h('a')}","size":01}\n`)).toThrow(ValidationFailed);
    expect(() => parseManifest(`{"path":"a","sha256":"${h('a')}","size":9007199254740993}\n`)).toThrow(/non-negative size/);
    expect(() => parseManifest(`{"path":"a/../b","sha256":"${h('a')}","size":1}\n`)).toThrow(/relative/);
  });
  it('parses back whatever it encodes: quotes, control characters, non-ASCII, emoji, big sizes', () => {
    const entries = ['plain/a.bin', 'q"uote', 'tab\tname', 'é/ü', '😀/x', 'z'].map((path, i) => ({ path, size: i === 5 ? Number.MAX_SAFE_INTEGER : i, sha256: h(String(i)) }));
    const text = encodeManifest(entries).toString('utf8');
    expect(parseManifest(text)).toEqual([...entries].sort((a, b) => (a.path < b.path ? -1 : 1)));
  });
});

describe('diff', () => {
  it('lists added, removed and modified files with bytes and CSV changes', () => {
    const from = [{ path: 'a.csv', size: 10, sha256: h('1') }, { path: 'gone', size: 5, sha256: h('2') }, { path: 'same', size: 1, sha256: h('3') }];
    const to = [{ path: 'a.csv', size: 12, sha256: h('4') }, { path: 'new', size: 7, sha256: h('5') }, { path: 'same', size: 1, sha256: h('3') }];
    const d = diffManifests(from, to, {
      from: [{ path: 'a.csv', columns: ['x', 'y'], rows: 3 }],
      to: [{ path: 'a.csv', columns: ['x', 'z'], rows: 4 }],
    });
    expect(d.added.map((e) => e.path)).toEqual(['new']);
    expect(d.removed.map((e) => e.path)).toEqual(['gone']);
    expect(d.modified).toEqual([{ path: 'a.csv', oldSha256: h('1'), newSha256: h('4'), oldSize: 10, newSize: 12 }]);
    expect([d.unchangedCount, d.bytesAdded, d.bytesRemoved, d.bytesChanged]).toEqual([1, 7, 5, 19]);
    expect(d.csv).toEqual([{ path: 'a.csv', rowsBefore: 3, rowsAfter: 4, columnsAdded: ['z'], columnsRemoved: ['y'] }]);
  });
});

describe('CSV summary', () => {
  const sum = (...chunks: string[]) => summarizeCsv(Readable.from(chunks.map((c) => Buffer.from(c))));
  it('reads the header and counts rows across chunks, quoted newlines and a missing final newline', async () => {
    expect(await sum('id,"na', 'me, full"\n1,"a\nb"\n2,c')).toEqual({ columns: ['id', 'name, full'], rows: 2 });
    expect(await sum('a,b\r\n1,2\r\n')).toEqual({ columns: ['a', 'b'], rows: 1 });
    expect(await sum('')).toEqual({ columns: [], rows: 0 });
    expect(await sum('only,header')).toEqual({ columns: ['only', 'header'], rows: 0 });
  });
});
