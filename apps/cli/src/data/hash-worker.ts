import { parentPort } from 'node:worker_threads';
import { frameFiles, hashFile } from './read-files.js';

export interface HashJob {
  id: number;
  /** `frame`: read the files into a batch-upload body as well (answered, not copied, with `body`). */
  kind: 'hash' | 'frame';
  files: { absolute: string; size: number }[];
  /** A used body's buffer to fill again (frame jobs). */
  reuse?: ArrayBuffer;
  /** Frame into this shared slot (see HashPool) instead: answered with `length`, nothing moved. */
  slot?: number;
}

/** Shared body buffers, sent once each: `slots[i]` is the pool's slot i. */
export interface SlotsMessage {
  kind: 'slots';
  from: number;
  slots: SharedArrayBuffer[];
}

export type HashAnswer = { id: number; hashes: string[]; body?: Uint8Array; length?: number } | { id: number; error: string };

const slots: SharedArrayBuffer[] = [];

parentPort!.on('message', (job: HashJob | SlotsMessage) => {
  if (job.kind === 'slots') {
    job.slots.forEach((sab, i) => (slots[job.from + i] = sab));
    return;
  }
  try {
    if (job.kind === 'hash') {
      parentPort!.postMessage({ id: job.id, hashes: job.files.map((f) => hashFile(f.absolute, f.size)) } satisfies HashAnswer);
    } else if (job.slot !== undefined) {
      const slot = slots[job.slot]!;
      const { hashes, body } = frameFiles(job.files, slot);
      // The pool sends only jobs that fit their slot; anything else would answer stale bytes.
      if (body.buffer !== slot) throw new Error(`slot ${job.slot} is too small for ${body.length} bytes`);
      parentPort!.postMessage({ id: job.id, hashes, length: body.length } satisfies HashAnswer);
    } else {
      const { hashes, body } = frameFiles(job.files, job.reuse);
      parentPort!.postMessage({ id: job.id, hashes, body } satisfies HashAnswer, [body.buffer as ArrayBuffer]);
    }
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) } satisfies HashAnswer);
  }
});
