import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createFileHasher } from './file-hasher.js';

const dir = mkdtempSync(join(tmpdir(), 'chronicle-hasher-'));
const bytes = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 13) % 256));
const file = join(dir, 'f.bin');
writeFileSync(file, bytes);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('file hasher', () => {
  it('hashes a range, and a file followed as it grows', async () => {
    const hasher = createFileHasher();
    expect(await hasher.hashRange(file, 1000, 2_000_000)).toBe(sha(bytes.subarray(1000, 2_001_000)));
    const followed = hasher.follow(file);
    followed.advance(1_000_000);
    followed.advance(2_500_000);
    expect(await followed.finish(bytes.length)).toBe(sha(bytes));
    await hasher.close();
  });

  it('reports a file shorter than asked, and a missing file, as failures', async () => {
    const hasher = createFileHasher();
    await expect(hasher.hashRange(file, 0, bytes.length + 1)).rejects.toThrow(/ended at byte 3000000/);
    const missing = hasher.follow(join(dir, 'missing'));
    await new Promise((r) => setTimeout(r, 50)); // the failure arrives before anyone asks
    await expect(missing.finish(10)).rejects.toThrow(/ENOENT/);
    expect(await hasher.hashRange(file, 0, 10)).toBe(sha(bytes.subarray(0, 10)));
    await hasher.close();
  });

  it('does not keep a process alive once nothing is awaited', () => {
    const dist = fileURLToPath(new URL('../../dist/local/file-hasher.js', import.meta.url));
    const script = `import { createFileHasher } from ${JSON.stringify(dist)};
      console.log(await createFileHasher().hashRange(${JSON.stringify(file)}, 0, 100));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }).toString().trim();
    expect(out).toBe(sha(bytes.subarray(0, 100)));
  });
});
