import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

// Whole-file reads are fastest for small files; large ones go through one reused buffer.
const WHOLE_FILE_MAX = 8 * 1024 * 1024;
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);

function hashFile(path: string, size: number): string {
  const hash = createHash('sha256');
  if (size <= WHOLE_FILE_MAX) return hash.update(readFileSync(path)).digest('hex');
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

parentPort!.on('message', (job: { id: number; files: { absolute: string; size: number }[] }) => {
  try {
    parentPort!.postMessage({ id: job.id, hashes: job.files.map((f) => hashFile(f.absolute, f.size)) });
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) });
  }
});
