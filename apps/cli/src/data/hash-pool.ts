import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

interface Job {
  files: { absolute: string; size: number }[];
  resolve(hashes: string[]): void;
  reject(e: Error): void;
}

// Small files go in batches so a message costs less than the hashing it carries.
const BATCH_FILES = 128;
const BATCH_BYTES = 16 * 1024 * 1024;

/** SHA-256 of many files across a pool of worker threads (the main thread keeps uploading meanwhile). */
export async function hashFiles(
  files: readonly { absolute: string; size: number }[],
  onHashed: (count: number, bytes: number) => void,
  threads = Math.max(1, Math.min(4, availableParallelism())),
): Promise<string[]> {
  const out: string[] = new Array(files.length);
  if (files.length === 0) return out;
  const batches: { start: number; end: number }[] = [];
  for (let i = 0; i < files.length; ) {
    let end = i;
    let bytes = 0;
    while (end < files.length && end - i < BATCH_FILES && (end === i || bytes + files[end]!.size <= BATCH_BYTES)) bytes += files[end++]!.size;
    batches.push({ start: i, end });
    i = end;
  }
  const workers = Array.from({ length: Math.min(threads, batches.length) }, () => new Worker(new URL('./hash-worker.js', import.meta.url)));
  let next = 0;
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              const b = batches[next++];
              if (!b) return resolve();
              w.postMessage({ id: b.start, files: files.slice(b.start, b.end).map((f) => ({ absolute: f.absolute, size: f.size })) });
            };
            w.on('message', (m: { id: number; hashes?: string[]; error?: string }) => {
              if (m.error || !m.hashes) return reject(new Error(`hashing failed: ${m.error}`));
              let bytes = 0;
              m.hashes.forEach((h, k) => {
                out[m.id + k] = h;
                bytes += files[m.id + k]!.size;
              });
              onHashed(m.hashes.length, bytes);
              send();
            });
            w.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return out;
}
