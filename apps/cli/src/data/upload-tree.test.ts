import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Hasher } from './hash-pool.js';
import { FRAME_HEADER, frameFiles, hashFile } from './read-files.js';
import { uploadTree, type BlobServer, type TreeFile } from './upload-tree.js';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-upload-tree-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The worker pool's work, on this thread. */
const inline: Hasher = {
  hash: async (files) => files.map((f) => hashFile(f.absolute, f.size)),
  frame: async (files) => frameFiles(files),
};

/** A server holding `stored`, recording what it is sent and checking each batch item's hash as the real one does. */
function fakeServer(stored: Set<string>) {
  const sent: string[] = [];
  const server: BlobServer & { sent: string[]; batches: number } = {
    sent,
    batches: 0,
    async missing(hashes) {
      return new Set(hashes.filter((h) => !stored.has(h)));
    },
    async uploadBatch(pieces) {
      server.batches++;
      const body = Buffer.concat(pieces);
      for (let at = 0; at < body.length; ) {
        const h = body.toString('hex', at, at + 32);
        const size = Number(body.readBigUInt64BE(at + 32));
        expect(sha256(body.subarray(at + FRAME_HEADER, at + FRAME_HEADER + size))).toBe(h);
        sent.push(h);
        stored.add(h);
        at += FRAME_HEADER + size;
      }
    },
    async uploadFile(h, f) {
      expect(hashFile(f.absolute, f.size)).toBe(h);
      sent.push(h);
      stored.add(h);
    },
  };
  return server;
}

function tree(name: string, contents: (string | Buffer)[]): TreeFile[] {
  return contents.map((c, i) => {
    const absolute = join(dir, `${name}-${i}`);
    writeFileSync(absolute, c);
    return { absolute, size: Buffer.byteLength(c) };
  });
}

describe('uploadTree', () => {
  it('hashes every file and sends each content the server lacks exactly once', async () => {
    const contents = Array.from({ length: 1500 }, (_, i) => `file ${i % 1000} `.repeat(1 + (i % 40)));
    const files = tree('many', contents);
    const server = fakeServer(new Set([sha256(contents[3]!)]));
    let hashed = 0;
    let uploaded = 0;
    const res = await uploadTree(files, {
      known: files.map(() => undefined),
      hasher: inline,
      server,
      onHashed: (n) => (hashed += n),
      onUploaded: (n) => (uploaded += n),
    });
    expect(res.hashes).toEqual(contents.map((c) => sha256(c)));
    const distinct = new Set(res.hashes);
    expect(server.sent.sort()).toEqual([...distinct].filter((h) => h !== sha256(contents[3]!)).sort());
    expect(res).toMatchObject({ hashedFiles: 1500, uploadedFiles: distinct.size - 1 });
    expect([hashed, uploaded]).toEqual([1500, distinct.size - 1]);
    expect(server.batches).toBeGreaterThan(1);
  });

  it('checks known hashes without reading, and re-reads a known small file the server lost', async () => {
    const files = tree('known', ['kept', 'lost', 'new']);
    const server = fakeServer(new Set([sha256('kept')]));
    const hashed: number[] = [];
    const res = await uploadTree(files, {
      known: [sha256('kept'), sha256('lost'), undefined],
      hasher: inline,
      server,
      onHashed: (n) => hashed.push(n),
    });
    expect(res.hashes).toEqual([sha256('kept'), sha256('lost'), sha256('new')]);
    expect(server.sent.sort()).toEqual([sha256('lost'), sha256('new')].sort());
    expect(res.uploadedFiles).toBe(2);
  });

  it('streams files too large for a batch one by one', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 3);
    const files = tree('big', [big, 'small']);
    const server = fakeServer(new Set());
    const res = await uploadTree(files, { known: [undefined, undefined], hasher: inline, server });
    expect(server.sent.sort()).toEqual([sha256(big), sha256('small')].sort());
    expect(res.uploadedBytes).toBe(big.length + 5);
  });

  it('stops asking about every group of new files once groups come back all missing, and keeps asking where the server has content', async () => {
    const contents = Array.from({ length: 5000 }, (_, i) => `sampled ${i}`);
    const files = tree('sampled', contents);
    // One group at a time, each a turn of the event loop later, as a worker answers.
    let queue = Promise.resolve();
    const oneByOne: Hasher = {
      ...inline,
      frame: (fs) => {
        const done = queue.then(() => new Promise<void>((r) => setImmediate(r))).then(() => frameFiles(fs));
        queue = done.then(() => undefined);
        return done;
      },
    };
    const fresh = fakeServer(new Set());
    let asked = 0;
    const missing = fresh.missing.bind(fresh);
    fresh.missing = (hs) => (asked++, missing(hs));
    await uploadTree(files, { known: files.map(() => undefined), hasher: oneByOne, server: fresh });
    expect(fresh.sent.sort()).toEqual(contents.map((c) => sha256(c)).sort());
    const groups = Math.ceil(5000 / 256);
    expect(asked).toBeLessThan(groups / 2);

    const full = fakeServer(new Set(contents.map((c) => sha256(c))));
    const again = await uploadTree(files, { known: files.map(() => undefined), hasher: oneByOne, server: full });
    expect(full.sent).toEqual([]);
    expect(again.uploadedFiles).toBe(0);
  });

  it('fails when an upload fails, and sends nothing more after it', async () => {
    const files = tree('fail', Array.from({ length: 3000 }, (_, i) => `failing ${i} `.repeat(200)));
    const server = fakeServer(new Set());
    server.uploadBatch = async () => {
      server.batches++;
      throw new Error('server went away');
    };
    await expect(uploadTree(files, { known: files.map(() => undefined), hasher: inline, server })).rejects.toThrow('server went away');
    expect(server.batches).toBeLessThan(4);
  });
});
