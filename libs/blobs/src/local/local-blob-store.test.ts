import { mkdtempSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { blobStoreContract } from '../contract/blob-store.contract.js';
import { createLocalBlobStore } from './local-blob-store.js';

const freshRoot = () => mkdtempSync(join(tmpdir(), 'chronicle-blobs-'));
const blobPath = (root: string, sha256: string) => join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);

blobStoreContract('local directory', async () => {
  const root = freshRoot();
  return {
    store: createLocalBlobStore({ root }),
    corrupt: (sha256) => writeFile(blobPath(root, sha256), 'tampered bytes of the same blob'),
  };
});

describe('local blob store layout', () => {
  it('keeps blobs in <root>/ab/cd/<sha256> and leaves no temporary file behind', async () => {
    const root = freshRoot();
    const store = createLocalBlobStore({ root });
    const { sha256 } = await store.put(Readable.from([Buffer.from('layout')]));
    expect(await readdir(join(root, sha256.slice(0, 2), sha256.slice(2, 4)))).toEqual([sha256]);
    await store.put(Readable.from([Buffer.from('layout')]));
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });
});
