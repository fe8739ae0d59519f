import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { Forbidden, ValidationFailed } from '@chronicle/domain';
import { isLoopback } from '../auth.js';

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
