import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore, PutOptions, PutResult } from '@chronicle/blobs';
import { Forbidden, ValidationFailed } from '@chronicle/domain';
import type { FastifyRequest } from 'fastify';
import { isLoopback } from '../auth.js';

/** A PUT with this header (an absolute path) and no body: the server copies that file (same host). */
export const LOCAL_FILE_HEADER = 'x-chronicle-local-file';

/**
 * Same-host transfers: a client on the server's own machine may have the server copy a file
 * (an upload) or read a stored blob's file itself (a download) instead of streaming the bytes
 * through HTTP. Only from loopback, only when the operator named the directories
 * (CHRONICLE_LOCAL_TRANSFER_ROOTS), and only files inside them, symlinks resolved: otherwise a
 * client could make the server read any file it can.
 */
export interface LocalTransfers {
  /** The real path of a client's file the server may import; throws Forbidden or ValidationFailed. */
  importable(path: string, remoteAddress: string | undefined): Promise<string>;
  /** Throws Forbidden unless same-host downloads are allowed for this client. */
  checkExport(remoteAddress: string | undefined): void;
}

export function localTransfers(roots: readonly string[]): LocalTransfers {
  // A directory that does not exist yet is left out, until the next start.
  const realRoots = roots.flatMap((r) => {
    try {
      return [realpathSync(r)];
    } catch {
      return [];
    }
  });
  const allow = (remoteAddress: string | undefined) => {
    if (realRoots.length === 0)
      throw new Forbidden('same-host transfers are off on this server (set CHRONICLE_LOCAL_TRANSFER_ROOTS to the directories they may use)');
    if (!isLoopback(remoteAddress)) throw new Forbidden('same-host transfers are only for clients on the server’s own machine', { remoteAddress });
  };
  return {
    async importable(path, remoteAddress) {
      allow(remoteAddress);
      if (!path.startsWith('/')) throw new ValidationFailed(`the local file must be an absolute path, not "${path}"`, { path });
      let real: string;
      try {
        real = await realpath(path);
      } catch {
        throw new ValidationFailed(`the server cannot find ${path}`, { path });
      }
      if (!realRoots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)))
        throw new Forbidden(`${path} is outside the directories open to same-host transfers`, { path, roots: realRoots });
      if (!(await stat(real)).isFile()) throw new ValidationFailed(`${path} is not a regular file`, { path });
      return real;
    },
    checkExport: allow,
  };
}

/** Stores what a PUT carries: its body, streamed, or (same host) a copy of the file it names. */
export async function putFromRequest(request: FastifyRequest, blobs: BlobStore, transfers: LocalTransfers, opts: PutOptions = {}): Promise<PutResult> {
  const localFile = request.headers[LOCAL_FILE_HEADER];
  if (typeof localFile !== 'string') return blobs.put((request.body as Readable | undefined) ?? request.raw, opts);
  if (Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'])
    throw new ValidationFailed(`send the content as the body or name a file in ${LOCAL_FILE_HEADER}, not both`);
  return blobs.importFile(await transfers.importable(localFile, request.socket.remoteAddress), opts);
}
