import { Worker } from 'node:worker_threads';

/**
 * SHA-256 of files on a worker thread. A big transfer then hashes on another core while the
 * main thread moves the bytes: an upload is written to its temporary file and the worker hashes
 * that file right behind the writer (from the page cache, no copies between threads); a
 * verified download is streamed while the worker hashes the same blob.
 */
export interface FileHasher {
  /** Hashes `path` from `start` as it grows: call `advance` as bytes are written. */
  follow(path: string, start?: number): FollowedFile;
  /** SHA-256 of `size` bytes of `path` from `start`. */
  hashRange(path: string, start: number, size: number): Promise<string>;
  close(): Promise<void>;
}

export interface FollowedFile {
  /** Bytes up to this offset are written and may be hashed. */
  advance(upTo: number): void;
  /** The hash of every byte up to `upTo`, once read. */
  finish(upTo: number): Promise<string>;
  /** Stops following (a failed upload); the worker closes the file. */
  abort(): void;
}

// Evaluated, not loaded from a file, so the same code runs from TypeScript sources and from dist.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buf = Buffer.allocUnsafe(1 << 20);
const jobs = new Map();
parentPort.on('message', (m) => {
  let job = jobs.get(m.id);
  try {
    if (m.op === 'open') {
      jobs.set(m.id, { fd: openSync(m.path, 'r'), pos: m.start, hash: createHash('sha256') });
      return;
    }
    if (!job) return;
    if (m.op === 'abort') {
      jobs.delete(m.id);
      return closeSync(job.fd);
    }
    while (job.pos < m.upTo) {
      const n = readSync(job.fd, buf, 0, Math.min(buf.length, m.upTo - job.pos), job.pos);
      if (n === 0) throw new Error('the file ended at byte ' + job.pos + ', before ' + m.upTo);
      job.hash.update(buf.subarray(0, n));
      job.pos += n;
    }
    if (m.op === 'finish') {
      jobs.delete(m.id);
      closeSync(job.fd);
      parentPort.postMessage({ id: m.id, hex: job.hash.digest('hex') });
    }
  } catch (e) {
    if (job) {
      jobs.delete(m.id);
      try { closeSync(job.fd); } catch {}
    }
    parentPort.postMessage({ id: m.id, error: String(e && e.message || e) });
  }
});
`;

/** Progress is told to the thread in steps of this size: a message per 1 MiB write cost more than the hashing of it. */
const ADVANCE_STEP_BYTES = 8 << 20;

interface Waiter {
  resolve(hex: string): void;
  reject(e: Error): void;
}

export function createFileHasher(): FileHasher {
  let worker: Worker | null = null;
  const waiters = new Map<number, Waiter>();
  // Jobs that failed before their finish was asked for: the failure is kept for finish().
  const failed = new Map<number, Error>();
  let nextId = 0;

  function started(): Worker {
    if (worker) return worker;
    // Its own flags: the parent's (e.g. --input-type=module) could change how the source is read.
    const w = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    w.on('message', (m: { id: number; hex?: string; error?: string }) => {
      const waiter = waiters.get(m.id);
      const error = m.error === undefined ? null : new Error(`hashing failed: ${m.error}`);
      if (!waiter) {
        if (error) failed.set(m.id, error);
        return;
      }
      waiters.delete(m.id);
      idleUnlessAwaited(w);
      if (error) waiter.reject(error);
      else waiter.resolve(m.hex!);
    });
    const lost = (e: Error) => {
      if (worker === w) worker = null;
      for (const waiter of waiters.values()) waiter.reject(e);
      waiters.clear();
    };
    w.on('error', lost);
    w.on('exit', (code) => lost(new Error(`the hashing thread exited (code ${code})`)));
    idleUnlessAwaited(w);
    worker = w;
    return w;
  }

  // The thread keeps the process alive only while someone awaits a hash: a server or CLI
  // exits when its own work is done. (Listening for messages refs it again, hence here.)
  function idleUnlessAwaited(w: Worker): void {
    if (waiters.size === 0) w.unref();
    else w.ref();
  }

  function follow(path: string, start = 0): FollowedFile {
    const id = nextId++;
    const w = started();
    w.postMessage({ op: 'open', id, path, start });
    let done = false;
    let told = start;
    return {
      advance(upTo) {
        if (done || upTo - told < ADVANCE_STEP_BYTES) return;
        told = upTo;
        w.postMessage({ op: 'advance', id, upTo });
      },
      finish(upTo) {
        done = true;
        const early = failed.get(id);
        if (early) {
          failed.delete(id);
          return Promise.reject(early);
        }
        return new Promise<string>((resolve, reject) => {
          waiters.set(id, { resolve, reject });
          idleUnlessAwaited(w);
          w.postMessage({ op: 'finish', id, upTo });
        });
      },
      abort() {
        if (done) return;
        done = true;
        failed.delete(id);
        w.postMessage({ op: 'abort', id });
      },
    };
  }

  return {
    follow,
    hashRange: (path, start, size) => follow(path, start).finish(start + size),
    async close() {
      const w = worker;
      worker = null;
      await w?.terminate();
    },
  };
}
