import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { copyFile, open, rename, stat, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactUpload } from '../artifacts.js';
import type { ChronicleClient } from '../client.js';
import { ChronicleApiError } from '../errors.js';
import { createDurableFileWriter } from './durable-file.js';

export interface FileTransferOptions {
  /** Try a same-host transfer first when the server is on this machine (default true). */
  sameHost?: boolean;
  /** Called once the size to move is known (downloads). */
  onStart?: (size: number) => void;
  /** Called with the number of bytes moved, as they move. */
  onBytes?: (n: number) => void;
}

/** How a file travelled: copied on the same machine, or streamed over HTTP. */
export type TransferMode = 'same-host' | 'streamed';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
/** Whether the server is on this machine, so that a same-host transfer is worth asking for. */
export const onThisMachine = (client: { url: string }) => LOOPBACK_HOSTS.has(new URL(client.url).hostname);

/** A same-host transfer the server refuses or the file system does not allow: stream instead. */
export function sameHostUnavailable(e: unknown): boolean {
  if (e instanceof ChronicleApiError) return e.code === 'FORBIDDEN' || e.code === 'FAILED_PRECONDITION' || e.code === 'BAD_USER_INPUT';
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'EACCES' || code === 'EPERM' || code === 'ENOENT';
}

/** What a stat tells of a file's content without reading it. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * Whether a file is still as it was (size, mtime, inode): a same-host copy is not hashed here,
 * so this is how a client knows the server copied the file it meant, as a hash cache would.
 */
export const unchanged = (before: FileIdentity, now: FileIdentity) => before.size === now.size && before.mtimeMs === now.mtimeMs && before.ino === now.ino;

/**
 * Uploads a file to a run's artifacts. On the server's own machine (and where its operator
 * allowed the directory) the server copies the file itself, at the speed of `cp`; otherwise, or
 * if refused, the file streams over HTTP.
 */
export async function uploadArtifactFile(
  client: ChronicleClient,
  runId: string,
  path: string,
  file: string,
  opts: FileTransferOptions & { contentType?: string } = {},
): Promise<ArtifactUpload & { mode: TransferMode }> {
  const contentType = opts.contentType ?? 'application/octet-stream';
  if ((opts.sameHost ?? true) && onThisMachine(client)) {
    const before = await stat(file);
    let res: ArtifactUpload | null = null;
    try {
      res = await client.artifacts.importLocal(runId, path, resolve(file), { contentType });
    } catch (e) {
      if (!sameHostUnavailable(e)) throw e;
    }
    if (res) {
      if (res.size !== before.size || !unchanged(before, await stat(file)))
        throw integrityError(`${file} changed while the server copied it; the artifact holds the copy (sha256 ${res.sha256})`);
      opts.onBytes?.(res.size);
      return { ...res, mode: 'same-host' };
    }
  }
  const reader = createReadStream(file, { highWaterMark: 1 << 20 });
  const source = opts.onBytes ? reader.pipe(counting(opts.onBytes)) : reader;
  if (source !== reader) reader.on('error', (e) => source.destroy(e));
  return { ...(await client.artifacts.upload(runId, path, source, { contentType })), mode: 'streamed' };
}

/**
 * Downloads a run artifact to `target`, hash-checked and on disk before it appears under that
 * name (it is written to `<target>.part` first). On the server's machine the stored file is
 * copied by the kernel while its hash is checked beside the copy; otherwise it streams.
 */
export async function downloadArtifactFile(
  client: ChronicleClient,
  runId: string,
  path: string,
  target: string,
  opts: FileTransferOptions = {},
): Promise<{ sha256: string; size: number; mode: TransferMode }> {
  const tmp = `${target}.part`;
  try {
    if ((opts.sameHost ?? true) && onThisMachine(client)) {
      try {
        const local = await client.artifacts.localFile(runId, path);
        opts.onStart?.(local.size);
        // The stored bytes are checked against their address while the kernel copies them.
        const [actual] = await Promise.all([sha256OfFile(local.localFile), copyFile(local.localFile, tmp, constants.COPYFILE_FICLONE)]);
        if (actual !== local.sha256) throw integrityError(mismatch(actual, local.sha256));
        const fh = await open(tmp, 'r');
        await fh.sync().finally(() => fh.close());
        await rename(tmp, target);
        opts.onBytes?.(local.size);
        return { sha256: actual, size: local.size, mode: 'same-host' };
      } catch (e) {
        if (!sameHostUnavailable(e)) throw e;
      }
    }
    const res = await client.artifacts.download(runId, path, { callerVerifies: true });
    opts.onStart?.(res.size);
    const hash = createHash('sha256');
    let size = 0;
    const hashing = counting((n, chunk) => {
      hash.update(chunk);
      size += n;
      opts.onBytes?.(n);
    });
    await pipeline(Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]), hashing, createDurableFileWriter(tmp));
    const actual = hash.digest('hex');
    if (actual !== res.sha256) throw integrityError(mismatch(actual, res.sha256));
    await rename(tmp, target);
    return { sha256: actual, size, mode: 'streamed' };
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** A pass-through that reports each chunk. */
function counting(onChunk: (n: number, chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onChunk(chunk.length, chunk);
      done(null, chunk);
    },
  });
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const mismatch = (actual: string, expected: string) => `the download hashes to ${actual}, not ${expected}; nothing was written`;

function integrityError(message: string): ChronicleApiError {
  return new ChronicleApiError(message, { code: 'INTEGRITY', status: 0 });
}
