import type { Readable } from 'node:stream';
import { ValidationFailed } from '@chronicle/domain';

/** What a blob is known by: the SHA-256 of its bytes (lower-case hex) and its length. */
export interface BlobInfo {
  sha256: string;
  size: number;
}

export interface PutResult extends BlobInfo {
  /** False when the same content was already stored: it is kept once. */
  created: boolean;
}

export interface PutOptions {
  /** The put fails (and stores nothing) once the content grows past this many bytes. */
  maxBytes?: number;
  /** The put fails (and stores nothing) if the content hashes to anything else. */
  expectedSha256?: string;
}

/** Inclusive byte offsets, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end?: number;
}

export interface GetOptions {
  range?: ByteRange;
  /**
   * Hash the bytes while they are read and fail the stream at its end if they are not the
   * blob's: a corrupt blob is then never served as if it were whole. Whole reads only.
   */
  verify?: boolean;
}

/**
 * Content-addressed storage for large immutable files (artifacts, model weights). Content
 * goes in and out as streams only: a blob may be many gigabytes.
 */
export interface BlobStore {
  put(content: Readable, opts?: PutOptions): Promise<PutResult>;
  /**
   * Stores many small blobs held in memory (dataset files of a few kilobytes) at the cost of
   * about one durable write, each verified against its SHA-256 first: a mismatch stores
   * nothing. Answers in the items' order.
   */
  putMany(items: readonly { sha256: string; bytes: Buffer }[]): Promise<PutResult[]>;
  /**
   * Stores a copy of a file on the store's own machine (a same-host upload): the copy is written
   * and hashed like any put (the copy, not the source, is hashed).
   */
  importFile(path: string, opts?: PutOptions): Promise<PutResult>;
  /** The file holding a blob, when it sits alone in a file on this machine (for same-host downloads). */
  localFile(sha256: string): { path: string; size: number } | null;
  /** Throws NotFound when there is no such blob. */
  get(sha256: string, opts?: GetOptions): Promise<Readable>;
  has(sha256: string): Promise<boolean>;
  stat(sha256: string): Promise<BlobInfo | null>;
  /** `stat` of many blobs in one call, in their order: existence checks come by the thousand (a dataset commit asks about every file). */
  statMany(sha256s: readonly string[]): Promise<(BlobInfo | null)[]>;
  /** Re-hashes the stored bytes; false when they no longer match their name. */
  verify(sha256: string): Promise<boolean>;
}

/** Stored bytes that no longer hash to their address: disk corruption or tampering. Never a client's fault. */
export class BlobCorrupted extends Error {
  constructor(readonly sha256: string, readonly actual: string) {
    super(`blob ${sha256} is corrupt: its content hashes to ${actual}`);
    this.name = 'BlobCorrupted';
  }
}

/** Raised when a put's content is larger than its `maxBytes`. */
export class BlobTooLarge extends ValidationFailed {}

const SHA256 = /^[0-9a-f]{64}$/;

export function validSha256(sha256: string): string {
  if (!SHA256.test(sha256)) throw new ValidationFailed('a blob address is 64 lower-case hex digits (SHA-256)', { sha256 });
  return sha256;
}
