import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const SEAL_KEY_FILE = 'seal-key.pem';

export interface SealKey {
  privateKey: KeyObject;
  /** SPKI PEM; every seal carries it, so a verifier can check the signature without the private key. */
  publicKeyPem: string;
}

const publicPemOf = (privateKey: KeyObject) => createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();

/** Reads the Ed25519 seal key at `path`, creating it (mode 0600) if there is none yet. */
export function loadOrCreateSealKey(path: string): SealKey {
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      // `wx`: if another process created the key between our check and now, keep theirs.
      writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return readSealKey(path);
}

export function readSealKey(path: string): SealKey {
  const privateKey = createPrivateKey(readFileSync(path));
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${path} is not an Ed25519 private key`);
  return { privateKey, publicKeyPem: publicPemOf(privateKey) };
}
