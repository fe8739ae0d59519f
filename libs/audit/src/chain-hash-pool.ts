import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * Chain links to check: link i is whole when SHA-256(previous[i] + input[i]) is expected[i].
 * Each link is checked against the *stored* hash of its predecessor, so links are independent
 * of each other and can be hashed anywhere, in any order.
 */
export interface ChainLinkBatch {
  previous: string[];
  input: string[];
  expected: string[];
}

/** The indexes of the links that do not hash to their expected value, ascending. */
export function brokenLinks(batch: ChainLinkBatch): number[] {
  const broken: number[] = [];
  for (let i = 0; i < batch.input.length; i++)
    if (createHash('sha256').update(batch.previous[i]!).update(batch.input[i]!).digest('hex') !== batch.expected[i]) broken.push(i);
  return broken;
}

// Evaluated, not loaded from a file, so the same code runs from TypeScript sources and from dist.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ id, previous, input, expected }) => {
  const broken = [];
  for (let i = 0; i < input.length; i++)
    if (createHash('sha256').update(previous[i]).update(input[i]).digest('hex') !== expected[i]) broken.push(i);
  parentPort.postMessage({ id, broken });
});
`;

/**
 * Hashes chain-link batches on worker threads, so verification reads and checks the log's
 * structure on the main thread while the SHA-256 work runs on the other cores.
 */
export class ChainHashPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve(broken: number[]): void; reject(e: Error): void }>();
  private nextId = 0;
  private nextWorker = 0;

  constructor(threads: number) {
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', ({ id, broken }: { id: number; broken: number[] }) => {
        this.pending.get(id)?.resolve(broken);
        this.pending.delete(id);
      });
      w.on('error', (e) => {
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      });
      return w;
    });
  }

  /** Round robin: batches are of similar size, and results are awaited in order anyway. */
  check(batch: ChainLinkBatch): Promise<number[]> {
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...batch });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
