import { open, type FileHandle } from 'node:fs/promises';

/** write(2) may take fewer bytes than asked (rarely, on regular files): keep writing the rest. */
export async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length; ) offset += (await fh.write(data, offset, data.length - offset)).bytesWritten;
}

/** A new directory entry must survive a crash too, not only the file's bytes. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
