import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Forbidden, ValidationFailed } from '@chronicle/domain';
import { describe, expect, it } from 'vitest';
import { localTransfers } from './local-transfers.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'chronicle-transfers-')));
const open = join(base, 'open');
const closed = join(base, 'closed');
mkdirSync(join(open, 'sub'), { recursive: true });
mkdirSync(closed);
writeFileSync(join(open, 'sub', 'model.bin'), 'weights');
writeFileSync(join(closed, 'secret'), 'no');
writeFileSync(`${open}-sibling`, 'prefix of the root, not inside it');
symlinkSync(join(closed, 'secret'), join(open, 'link-out'));
symlinkSync(join(open, 'sub', 'model.bin'), join(closed, 'link-in'));

describe('same-host transfers', () => {
  const transfers = localTransfers([open, join(base, 'not-created-yet')]);

  it('lets a loopback client name a regular file inside an open directory, symlinks resolved', async () => {
    expect(await transfers.importable(join(open, 'sub', 'model.bin'), '127.0.0.1')).toBe(join(open, 'sub', 'model.bin'));
    expect(await transfers.importable(join(closed, 'link-in'), '::1')).toBe(join(open, 'sub', 'model.bin'));
    expect(() => transfers.checkExport('::ffff:127.0.0.1')).not.toThrow();
  });

  it('refuses other machines, files outside (also through a symlink or a name sharing the prefix), and what is not a file', async () => {
    await expect(transfers.importable(join(open, 'sub', 'model.bin'), '10.1.2.3')).rejects.toBeInstanceOf(Forbidden);
    expect(() => transfers.checkExport('10.1.2.3')).toThrow(Forbidden);
    await expect(transfers.importable(join(closed, 'secret'), '127.0.0.1')).rejects.toBeInstanceOf(Forbidden);
    await expect(transfers.importable(join(open, 'link-out'), '127.0.0.1')).rejects.toBeInstanceOf(Forbidden);
    await expect(transfers.importable(`${open}-sibling`, '127.0.0.1')).rejects.toBeInstanceOf(Forbidden);
    await expect(transfers.importable(join(open, 'sub'), '127.0.0.1')).rejects.toBeInstanceOf(ValidationFailed);
    await expect(transfers.importable('sub/model.bin', '127.0.0.1')).rejects.toBeInstanceOf(ValidationFailed);
    await expect(transfers.importable(join(open, 'missing'), '127.0.0.1')).rejects.toBeInstanceOf(ValidationFailed);
  });

  it('is off without directories, saying which setting turns it on', async () => {
    const off = localTransfers([]);
    await expect(off.importable(join(open, 'sub', 'model.bin'), '127.0.0.1')).rejects.toThrow(/CHRONICLE_LOCAL_TRANSFER_ROOTS/);
    expect(() => off.checkExport('127.0.0.1')).toThrow(Forbidden);
  });
});
