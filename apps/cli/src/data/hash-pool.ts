import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HashAnswer, HashJob } from './hash-worker.js';
import { FRAME_BUFFER_BYTES } from './read-files.js';

type File = { absolute: string; size: number };

/** Hashes files, and reads small ones into batch-upload bodies (see read-files.ts). */
export interface Hasher {
  hash(files: readonly File[]): Promise<string[]>;
  frame(files: readonly File[]): Promise<{ hashes: string[]; body: Uint8Array }>;
  /** A framed body no longer needed (sent, or copied from): its memory may be filled again. */
  recycle?(body: Uint8Array): void;
}

// Enough spare bodies for the bytes a commit holds at once (see upload-tree.ts).
const SPARE_BODIES = 24;

interface Pending {
  job: HashJob;
  resolve(a: { hashes: string[]; body?: Uint8Array }): void;
  reject(e: Error): void;
}

/** A Hasher on worker threads: the main thread keeps checking and uploading meanwhile. */
export class HashPool implements Hasher {
  private readonly workers: Worker[] = [];
  /** Per worker, its jobs in the order it answers them. */
  private readonly running = new Map<Worker, Pending[]>();
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private failed: Error | null = null;
  private readonly spare: ArrayBuffer[] = [];

  constructor(readonly threads = Math.max(1, Math.min(4, availableParallelism()))) {}

  hash(files: readonly File[]): Promise<string[]> {
    return this.submit('hash', files).then((a) => a.hashes);
  }

  frame(files: readonly File[]): Promise<{ hashes: string[]; body: Uint8Array }> {
    return this.submit('frame', files).then((a) => ({ hashes: a.hashes, body: a.body! }));
  }

  recycle(body: Uint8Array): void {
    if (this.spare.length < SPARE_BODIES && body.byteOffset === 0 && body.buffer instanceof ArrayBuffer && body.buffer.byteLength >= FRAME_BUFFER_BYTES)
      this.spare.push(body.buffer);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private submit(kind: HashJob['kind'], files: readonly File[]): Promise<{ hashes: string[]; body?: Uint8Array }> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { id: this.nextId++, kind, files: files.map((f) => ({ absolute: f.absolute, size: f.size })) }, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Each worker holds up to two jobs: it starts the next one as soon as it answers, instead of
   * waiting for the main thread (busy uploading) to hand it one.
   */
  private dispatch(): void {
    while (this.queue.length > 0) {
      if (this.workers.length < this.threads) this.spawn();
      let w: Worker | null = null;
      for (const [x, jobs] of this.running) if (jobs.length < 2 && (!w || jobs.length < this.running.get(w)!.length)) w = x;
      if (!w) return;
      const p = this.queue.shift()!;
      this.running.get(w)!.push(p);
      const reuse = p.job.kind === 'frame' ? this.spare.pop() : undefined;
      if (reuse) w.postMessage({ ...p.job, reuse }, [reuse]);
      else w.postMessage(p.job);
    }
  }

  private spawn(): void {
    const w = new Worker(new URL('./hash-worker.js', import.meta.url));
    this.workers.push(w);
    this.running.set(w, []);
    w.on('message', (a: HashAnswer) => {
      const p = this.running.get(w)!.shift()!;
      if ('error' in a) p.reject(new Error(`hashing failed: ${a.error}`));
      else p.resolve(a);
      this.dispatch();
    });
    w.on('error', (e) => this.fail(e));
  }

  /** A crashed worker fails its jobs and every later one, each where it is awaited. */
  private fail(e: Error): void {
    this.failed ??= e;
    for (const jobs of this.running.values()) for (const p of jobs.splice(0)) p.reject(e);
    for (const p of this.queue.splice(0)) p.reject(e);
  }
}

// Small files go in batches so a message costs less than the hashing it carries.
const BATCH_FILES = 128;
const BATCH_BYTES = 16 * 1024 * 1024;

/** Splits items into runs of at most `maxFiles` items and (unless one item alone) `maxBytes` bytes. */
export function batchesOf<T>(items: readonly T[], maxFiles: number, maxBytes: number, sizeOf: (t: T) => number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; ) {
    let end = i;
    let bytes = 0;
    while (end < items.length && end - i < maxFiles && (end === i || bytes + sizeOf(items[end]!) <= maxBytes)) bytes += sizeOf(items[end++]!);
    out.push(items.slice(i, end));
    i = end;
  }
  return out;
}

/** SHA-256 of many files across a pool of worker threads. */
export async function hashFiles(files: readonly File[], onHashed: (count: number, bytes: number) => void, threads?: number): Promise<string[]> {
  const pool = new HashPool(threads);
  try {
    const parts = await Promise.all(
      batchesOf(files, BATCH_FILES, BATCH_BYTES, (f) => f.size).map(async (b) => {
        const hashes = await pool.hash(b);
        onHashed(b.length, b.reduce((n, f) => n + f.size, 0));
        return hashes;
      }),
    );
    return parts.flat();
  } finally {
    await pool.close();
  }
}
