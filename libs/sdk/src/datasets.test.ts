import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClient } from './client.js';
import { encodeBlobBatch, encodeManifest } from './datasets.js';

const sha256 = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('encodeBlobBatch', () => {
  it('frames each item as its raw SHA-256, its size (u64 big-endian), its bytes', () => {
    const a = new TextEncoder().encode('abc');
    const body = Buffer.from(encodeBlobBatch([{ sha256: sha256(a), bytes: a }, { sha256: sha256(''), bytes: new Uint8Array(0) }]));
    expect(body.length).toBe(40 + 3 + 40);
    expect(body.toString('hex', 0, 32)).toBe(sha256(a));
    expect(body.readBigUInt64BE(32)).toBe(3n);
    expect(body.toString('utf8', 40, 43)).toBe('abc');
    expect(body.toString('hex', 43, 75)).toBe(sha256(''));
    expect(body.readBigUInt64BE(75)).toBe(0n);
  });
});

describe('recordVersion', () => {
  it('uploads the canonical manifest, then commits it on the given parent, rebasing on CONFLICT when asked', async () => {
    const calls: { url: string; body: string }[] = [];
    const answers = [
      new Response('{}', { status: 201 }),
      new Response(JSON.stringify({ errors: [{ message: 'moved', extensions: { code: 'CONFLICT' } }], data: null })),
      new Response(JSON.stringify({ data: { dataset: { latestVersion: 4 } } })),
      new Response(JSON.stringify({ data: { commitDatasetVersion: { changed: true, version: { version: 5, versionId: 'd@5' } } } })),
    ];
    const fetch = (async (url: string, init?: RequestInit) => {
      calls.push({ url: String(url), body: typeof init?.body === 'string' ? init.body : new TextDecoder().decode(init?.body as Uint8Array) });
      return answers.shift()!;
    }) as typeof globalThis.fetch;
    const files = [
      { path: 'b.txt', size: 1, sha256: sha256('b') },
      { path: 'a.txt', size: 1, sha256: sha256('a') },
    ];
    const rebased: [number | null, number][] = [];
    const r = await createClient({ url: 'http://x', fetch }).datasets.recordVersion('d', 3, files, { rebase: true, onRebase: (f, t) => rebased.push([f, t]) });
    expect(r).toEqual({ version: 5, versionId: 'd@5', changed: true });
    const manifest = encodeManifest(files);
    expect(calls[0]).toEqual({ url: `http://x/api/v1/blobs/${sha256(manifest)}`, body: manifest });
    expect(JSON.parse(calls[1]!.body).variables).toMatchObject({ d: 'd', p: 3, m: sha256(manifest) });
    expect(JSON.parse(calls[3]!.body).variables).toMatchObject({ p: 4 });
    expect(rebased).toEqual([[3, 4]]);
  });
});
