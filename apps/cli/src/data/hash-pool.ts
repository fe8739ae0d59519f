import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HashAnswer, HashJob, SlotsMessage } from './hash-worker.js';
import { FRAME_BUFFER_BYTES, FRAME_HEADER, FRAME_SLOT_BYTES } from './read-files.js';

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
/**
 * Groups of small files are framed into shared buffers (slots), made once and shared with every
 * worker once: a body handed over as a transferred ArrayBuffer counted as new external memory
 * each time, and that alone set off most of the main thread's collections (81 of 113 for
 * 100,000 files). Bodies too large for a slot, or framed while every slot is taken, are
 * transferred as before.
 */
const MAX_SLOTS = 40;

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
  private readonly slots: SharedArrayBuffer[] = [];
  private readonly slotOf = new Map<SharedArrayBuffer, number>();
  private readonly freeSlots: number[] = [];

  constructor(readonly threads = Math.max(1, Math.min(4, availableParallelism()))) {}

  hash(files: readonly File[]): Promise<string[]> {
    return this.submit('hash', files).then((a) => a.hashes);
  }

  frame(files: readonly File[]): Promise<{ hashes: string[]; body: Uint8Array }> {
    return this.submit('frame', files).then((a) => ({ hashes: a.hashes, body: a.body! }));
  }

  recycle(body: Uint8Array): void {
    const slot = body.buffer instanceof SharedArrayBuffer ? this.slotOf.get(body.buffer) : undefined;
    if (slot !== undefined) this.freeSlots.push(slot);
    else if (this.spare.length < SPARE_BODIES && body.byteOffset === 0 && body.buffer instanceof ArrayBuffer && body.buffer.byteLength >= FRAME_BUFFER_BYTES)
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
      const slot = p.job.kind === 'frame' ? this.takeSlot(p.job.files) : undefined;
      const reuse = p.job.kind === 'frame' && slot === undefined ? this.spare.pop() : undefined;
      if (slot !== undefined) {
        p.job.slot = slot;
        w.postMessage(p.job);
      } else if (reuse) w.postMessage({ ...p.job, reuse }, [reuse]);
      else w.postMessage(p.job);
    }
  }

  /** A free slot for a frame job that fits one; a new slot (shared with every worker) while under MAX_SLOTS. */
  private takeSlot(files: readonly File[]): number | undefined {
    let framed = 1;
    for (const f of files) framed += FRAME_HEADER + f.size;
    if (framed > FRAME_SLOT_BYTES) return undefined;
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    if (this.slots.length >= MAX_SLOTS) return undefined;
    const sab = new SharedArrayBuffer(FRAME_SLOT_BYTES);
    const index = this.slots.length;
    this.slots.push(sab);
    this.slotOf.set(sab, index);
    // Sent before any job naming it: messages to a worker arrive in order.
    for (const w of this.workers) w.postMessage({ kind: 'slots', from: index, slots: [sab] } satisfies SlotsMessage);
    return index;
  }

  private spawn(): void {
    const w = new Worker(new URL('./hash-worker.js', import.meta.url));
    this.workers.push(w);
    this.running.set(w, []);
    if (this.slots.length > 0) w.postMessage({ kind: 'slots', from: 0, slots: this.slots } satisfies SlotsMessage);
    w.on('message', (a: HashAnswer) => {
      const p = this.running.get(w)!.shift()!;
      if ('error' in a) {
        // The slot it was framing into is free again.
        if (p.job.slot !== undefined) this.freeSlots.push(p.job.slot);
        p.reject(new Error(`hashing failed: ${a.error}`));
      } else if (p.job.slot !== undefined) p.resolve({ hashes: a.hashes, body: new Uint8Array(this.slots[p.job.slot]!, 0, a.length!) });
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
