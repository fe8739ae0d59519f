import { open, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/** Writes are gathered to this size; network chunks are 16-64 KiB. */
const WRITE_BYTES = 1 << 20;
/** The file is flushed to disk every this many bytes, so the final fsync waits only for the tail. */
const FLUSH_EVERY_BYTES = 64 << 20;

/**
 * A file writer whose `finish` means "on disk": chunks go out in 1 MiB writes, the file is
 * fdatasync'ed every 64 MiB while data keeps arriving, and fsync'ed before the stream finishes.
 * A download that reports success has survived a crash, and the disk works during the
 * transfer instead of after it.
 */
export function createDurableFileWriter(path: string): Writable {
  let fh: FileHandle | null = null;
  let parts: Buffer[] = [];
  let pending = 0;
  let written = 0;
  let flushedTo = 0;
  let flushing: Promise<void> | null = null;
  let flushFailure: Error | null = null;

  async function writeOut(): Promise<void> {
    const data = Buffer.concat(parts, pending);
    parts = [];
    pending = 0;
    for (let offset = 0; offset < data.length; ) offset += (await fh!.write(data, offset, data.length - offset)).bytesWritten;
    written += data.length;
    if (written - flushedTo >= FLUSH_EVERY_BYTES) {
      // One flush at a time, awaited before the next: writes go on meanwhile. Its failure is
      // kept and thrown from the next write or the end, never left unhandled.
      await flushing;
      if (flushFailure) throw flushFailure;
      flushedTo = written;
      flushing = fh!.datasync().catch((e: Error) => void (flushFailure ??= e));
    }
  }

  return new Writable({
    highWaterMark: WRITE_BYTES,
    construct(done) {
      open(path, 'w').then((h) => {
        fh = h;
        done();
      }, done);
    },
    write(chunk: Buffer, _enc, done) {
      parts.push(chunk);
      pending += chunk.length;
      if (pending < WRITE_BYTES) return done();
      writeOut().then(() => done(), done);
    },
    final(done) {
      (async () => {
        if (pending > 0) await writeOut();
        await flushing;
        if (flushFailure) throw flushFailure;
        await fh!.sync();
      })().then(() => done(), done);
    },
    destroy(err, done) {
      const handle = fh;
      fh = null;
      // A flush still running is waited for before closing.
      Promise.resolve(flushing)
        .then(() => handle?.close())
        .then(() => done(err), (e: Error) => done(err ?? e));
    },
  });
}
