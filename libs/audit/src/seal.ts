import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import type { EventStore, StreamHead } from '@chronicle/event-store';
import type { SealKey } from './seal-key.js';

export const AUDIT_SEALS_STREAM = 'audit-seals';
export const AUDIT_SEALED = 'AuditSealed';
export const SEAL_ACTOR = 'system:audit';

export interface AuditSealedData {
  /** Every event up to this global position is covered. */
  position: number;
  streams: number;
  /** SHA-256 over the sorted heads (stream, revision, hash) at `position`. */
  digest: string;
  algorithm: 'ed25519';
  publicKey: string;
  /** Base64 Ed25519 signature over `sealMessage(position, streams, digest)`. */
  signature: string;
  at: number;
}

export interface HeadState {
  revision: number;
  hash: string;
}

/** Streams must come sorted by name: the digest is over one canonical order. */
export function headsDigest(heads: Iterable<StreamHead>): string {
  const h = createHash('sha256');
  for (const { stream, revision, hash } of heads) h.update(`${stream}\n${revision}\n${hash}\n`);
  return h.digest('hex');
}

export function sealMessage(position: number, streams: number, digest: string): Buffer {
  return Buffer.from(`chronicle-seal-v1\n${position}\n${streams}\n${digest}\n`);
}

export function isAuditSealedData(d: unknown): d is AuditSealedData {
  const x = d as Partial<AuditSealedData> | null;
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof x.position === 'number' &&
    typeof x.streams === 'number' &&
    typeof x.digest === 'string' &&
    x.algorithm === 'ed25519' &&
    typeof x.publicKey === 'string' &&
    typeof x.signature === 'string'
  );
}

export function signatureValid(seal: AuditSealedData): boolean {
  try {
    const key = createPublicKey(seal.publicKey);
    return verify(null, sealMessage(seal.position, seal.streams, seal.digest), key, Buffer.from(seal.signature, 'base64'));
  } catch {
    return false;
  }
}

export interface SealResult {
  /** Position of the AuditSealed event itself. */
  sealPosition: number;
  seal: AuditSealedData;
}

/**
 * Appends a signed seal over the heads of every stream. Returns null when nothing was written
 * since the last seal, so an idle server does not fill its log with seals of seals.
 */
export async function sealLog(store: EventStore, key: SealKey, opts: { clock?: () => number } = {}): Promise<SealResult | null> {
  const { position, heads } = await store.readHeads();
  if (position === 0) return null;
  const sealsHead = heads.find((h) => h.stream === AUDIT_SEALS_STREAM);
  if (sealsHead) {
    const last = await store.readStream(AUDIT_SEALS_STREAM, { fromRevision: sealsHead.revision, limit: 1 });
    if (last.events[0]?.position === position) return null;
  }
  const sorted = [...heads].sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0));
  const digest = headsDigest(sorted);
  const seal: AuditSealedData = {
    position,
    streams: sorted.length,
    digest,
    algorithm: 'ed25519',
    publicKey: key.publicKeyPem,
    signature: sign(null, sealMessage(position, sorted.length, digest), key.privateKey).toString('base64'),
    at: (opts.clock ?? Date.now)(),
  };
  const res = await store.append(
    [{ stream: AUDIT_SEALS_STREAM, expectedRevision: sealsHead?.revision ?? 'no_stream', events: [{ type: AUDIT_SEALED, data: seal }] }],
    { actor: SEAL_ACTOR },
  );
  return { sealPosition: res.lastPosition, seal };
}
