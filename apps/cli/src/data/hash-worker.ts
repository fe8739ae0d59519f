import { parentPort } from 'node:worker_threads';
import { frameFiles, hashFile } from './read-files.js';

export interface HashJob {
  id: number;
  /** `frame`: read the files into a batch-upload body as well (answered, not copied, with `body`). */
  kind: 'hash' | 'frame';
  files: { absolute: string; size: number }[];
  /** A used body's buffer to fill again (frame jobs). */
  reuse?: ArrayBuffer;
}

export type HashAnswer = { id: number; hashes: string[]; body?: Uint8Array } | { id: number; error: string };

parentPort!.on('message', (job: HashJob) => {
  try {
    if (job.kind === 'hash') {
      parentPort!.postMessage({ id: job.id, hashes: job.files.map((f) => hashFile(f.absolute, f.size)) } satisfies HashAnswer);
    } else {
      const { hashes, body } = frameFiles(job.files, job.reuse);
      parentPort!.postMessage({ id: job.id, hashes, body } satisfies HashAnswer, [body.buffer as ArrayBuffer]);
    }
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) } satisfies HashAnswer);
  }
});
