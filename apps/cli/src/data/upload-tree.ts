import { BATCH_ITEM_MAX } from '@chronicle/sdk';
import { batchesOf, type Hasher } from './hash-pool.js';
import { FRAME_HEADER, selectFrames } from './read-files.js';

export interface TreeFile {
  absolute: string;
  size: number;
}

/** What the pipeline needs from the server (the SDK's datasets API, in the CLI). */
export interface BlobServer {
  /** Which of these hashes the server lacks. */
  missing(hashes: readonly string[]): Promise<Set<string>>;
  /** One batch upload whose body is these framed pieces back to back. */
  uploadBatch(body: readonly Uint8Array[]): Promise<void>;
  /** A file too large for a batch, streamed. */
  uploadFile(sha256: string, file: TreeFile): Promise<void>;
}

export interface UploadTreeOptions {
  /** Hashes already known (the hash cache), by index of `files`; undefined: hash it. */
  known: readonly (string | undefined)[];
  hasher: Hasher;
  server: BlobServer;
  /** Files too large for a batch uploaded at once; default 4. */
  fileUploads?: number;
  onHashed?(files: number, bytes: number): void;
  /** Files found missing on the server and queued for upload (the upload bar's total grows). */
  onQueued?(files: number): void;
  onUploaded?(files: number, bytes: number): void;
}

export interface UploadTreeResult {
  /** SHA-256 of each file, by index. */
  hashes: string[];
  hashedFiles: number;
  /** Distinct contents the server lacked and was sent. */
  uploadedFiles: number;
  uploadedBytes: number;
}

// A worker job: enough files that a message costs little, few enough that results flow early.
const FRAME_FILES = 256;
const FRAME_BYTES = 2 * 1024 * 1024;
// Medium files (over BATCH_ITEM_MAX) are hashed in jobs of this size, then streamed one by one.
const HASH_BYTES = 16 * 1024 * 1024;
// A batch upload is sent once it holds this much, or at once while no upload is in flight, so
// the server starts storing early and later batches are large (one pack, one fsync, each).
const UPLOAD_BYTES = 8 * 1024 * 1024;
const UPLOAD_ITEMS = 4000;
const UPLOADS_IN_FLIGHT = 2;
// Bytes read but not yet sent: bounds memory whatever the tree's size.
const HELD_MAX = 64 * 1024 * 1024;
const CHECK_BATCH = 5000;
/**
 * Checking which freshly hashed files the server lacks pays off only where it has some. After
 * this many groups in a row were all missing, only one group in CHECK_SAMPLE is checked (and
 * the others sent unasked; the server still stores each content once, checking as it stores);
 * a checked group with anything stored turns checking of every group back on. At worst a few
 * groups (megabytes) are sent that the server had.
 */
const CHECK_SKIP_AFTER = 4;
const CHECK_SAMPLE = 8;

/** A semaphore counted in bytes, granted in request order; one oversized request passes alone. */
class ByteBudget {
  private used = 0;
  private readonly waiting: { n: number; go(): void }[] = [];
  constructor(private readonly max: number) {}
  take(n: number): Promise<void> {
    return new Promise((go) => {
      this.waiting.push({ n, go });
      this.grant();
    });
  }
  give(n: number): void {
    this.used -= n;
    this.grant();
  }
  private grant(): void {
    while (this.waiting.length > 0 && (this.used === 0 || this.used + this.waiting[0]!.n <= this.max)) {
      const w = this.waiting.shift()!;
      this.used += w.n;
      w.go();
    }
  }
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * Hashes the files and uploads those the server lacks, as one pipeline: as soon as a group
 * of small files is read and hashed (once, by a worker, into a batch-upload body), its
 * existence is checked and what is missing is queued for upload, while the workers go on
 * hashing. Each distinct content is sent at most once. Nothing here records a version.
 */
export async function uploadTree(files: readonly TreeFile[], opts: UploadTreeOptions): Promise<UploadTreeResult> {
  const { hasher, server } = opts;
  const hashes: string[] = new Array(files.length);
  const result: UploadTreeResult = { hashes, hashedFiles: 0, uploadedFiles: 0, uploadedBytes: 0 };
  const held = new ByteBudget(HELD_MAX);
  // Contents this commit sends or has sent: a duplicate found later is not sent again.
  const claimed = new Set<string>();
  const claim = (h: string) => {
    if (claimed.has(h)) return false;
    claimed.add(h);
    return true;
  };
  let failed = false;
  const sizeOf = (i: number) => files[i]!.size;

  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let pendingItems = 0;
  let pendingFileBytes = 0;
  let inFlight = 0;
  const uploads: Promise<void>[] = [];
  const slots = new ByteBudget(UPLOADS_IN_FLIGHT);
  const flush = () => {
    if (pendingItems === 0) return;
    const body = pending;
    const bytes = pendingBytes;
    const items = pendingItems;
    const fileBytes = pendingFileBytes;
    pending = [];
    pendingBytes = pendingItems = pendingFileBytes = 0;
    inFlight++;
    const upload = (async () => {
        await slots.take(1);
        try {
          if (!failed) await server.uploadBatch(body);
          // Only once the server has answered: until then the request may still be reading it.
          for (const piece of body) hasher.recycle?.(piece);
        } finally {
          slots.give(1);
          inFlight--;
          held.give(bytes);
        }
        result.uploadedFiles += items;
        result.uploadedBytes += fileBytes;
        opts.onUploaded?.(items, fileBytes);
      })();
    // Awaited at the end; a failure meanwhile stops the rest of the work early.
    upload.catch(() => (failed = true));
    uploads.push(upload);
  };

  let allMissingRun = 0;
  let unchecked = 0;
  const lacks = async (hs: string[]): Promise<Set<string>> => {
    if (allMissingRun >= CHECK_SKIP_AFTER && unchecked++ % CHECK_SAMPLE !== 0) return new Set(hs);
    const missing = await server.missing(hs);
    allMissingRun = hs.every((h) => missing.has(h)) ? allMissingRun + 1 : 0;
    return missing;
  };

  /** Small files read, hashed and framed by a worker; `lacking`: known to be missing already. */
  const smallJob = async (idx: number[], lacking = false) => {
    const group = idx.map((i) => files[i]!);
    const sizes = group.map((f) => f.size);
    const framed = sizes.reduce((n, s) => n + FRAME_HEADER + s, 0);
    await held.take(framed);
    if (failed) return held.give(framed);
    const { hashes: hs, body } = await hasher.frame(group);
    if (failed) return held.give(framed);
    idx.forEach((i, k) => (hashes[i] = hs[k]!));
    result.hashedFiles += idx.length;
    opts.onHashed?.(idx.length, framed - FRAME_HEADER * idx.length);
    const missing = lacking ? new Set(hs) : await lacks(hs);
    const keep = hs.map((h) => missing.has(h) && claim(h));
    let queued = 0;
    for (const k of keep) if (k) queued++;
    if (queued > 0) opts.onQueued?.(queued);
    const sent = selectFrames(body, sizes, keep);
    if (sent !== body) hasher.recycle?.(body);
    // What the server has already is let go now, not after the upload.
    held.give(framed - sent.length);
    if (sent.length === 0) return;
    pending.push(sent);
    pendingBytes += sent.length;
    for (const [k, s] of sizes.entries())
      if (keep[k]) {
        pendingItems++;
        pendingFileBytes += s;
      }
    if (pendingBytes >= UPLOAD_BYTES || pendingItems >= UPLOAD_ITEMS || inFlight === 0) flush();
  };

  const fileUploads = new ByteBudget(opts.fileUploads ?? 4);
  const uploadFiles = async (idx: number[]) => {
    const missing = await server.missing(idx.map((i) => hashes[i]!));
    await Promise.all(
      idx.map(async (i) => {
        const h = hashes[i]!;
        if (!missing.has(h) || !claim(h)) return;
        opts.onQueued?.(1);
        await fileUploads.take(1);
        try {
          if (!failed) await server.uploadFile(h, files[i]!);
        } finally {
          fileUploads.give(1);
        }
        result.uploadedFiles++;
        result.uploadedBytes += files[i]!.size;
        opts.onUploaded?.(1, files[i]!.size);
      }),
    );
  };

  const mediumJob = async (idx: number[]) => {
    const hs = await hasher.hash(idx.map((i) => files[i]!));
    idx.forEach((i, k) => (hashes[i] = hs[k]!));
    result.hashedFiles += idx.length;
    opts.onHashed?.(idx.length, idx.reduce((n, i) => n + files[i]!.size, 0));
    await uploadFiles(idx);
  };

  // Known hashes are checked first; small files the server lacks are read like new ones.
  const knownJob = async (idx: number[]) => {
    const missing = await server.missing(idx.map((i) => opts.known[i]!));
    const small: number[] = [];
    const large: number[] = [];
    for (const i of idx) {
      const h = opts.known[i]!;
      if (!missing.has(h)) hashes[i] = h;
      else if (files[i]!.size <= BATCH_ITEM_MAX) small.push(i);
      else {
        hashes[i] = h;
        large.push(i);
      }
    }
    await Promise.all([...batchesOf(small, FRAME_FILES, FRAME_BYTES, sizeOf).map((b) => smallJob(b, true)), uploadFiles(large)]);
  };

  const known: number[] = [];
  const small: number[] = [];
  const medium: number[] = [];
  for (const [i, f] of files.entries())
    if (opts.known[i] !== undefined) known.push(i);
    else if (f.size <= BATCH_ITEM_MAX) small.push(i);
    else medium.push(i);
  try {
    await Promise.all([
      mapLimit(batchesOf(known, CHECK_BATCH, Number.POSITIVE_INFINITY, sizeOf), 2, knownJob),
      ...batchesOf(small, FRAME_FILES, FRAME_BYTES, sizeOf).map((b) => smallJob(b)),
      ...batchesOf(medium, Number.POSITIVE_INFINITY, HASH_BYTES, sizeOf).map(mediumJob),
    ]);
    flush();
    await Promise.all(uploads);
  } catch (e) {
    failed = true;
    await Promise.allSettled(uploads);
    throw e;
  }
  return result;
}
