import { ChronicleApiError } from './errors.js';
import type { StreamingBody, Transport } from './transport.js';
import { asOfVariable, type ReadOptions } from './as-of.js';

/** One file of a dataset commit: its manifest entry and how to read its bytes if the server lacks them. */
export interface DatasetFileInput {
  /** Relative, `/`-separated. */
  path: string;
  size: number;
  sha256: string;
  open(): ReadableStream<Uint8Array> | Uint8Array | Blob | string | Promise<ReadableStream<Uint8Array> | Uint8Array>;
}

export interface CommitProgress {
  phase: 'checking' | 'uploading' | 'recording';
  done: number;
  total: number;
  bytes: number;
}

export interface CommitDatasetOptions {
  message?: string;
  tags?: string[];
  /** On CONFLICT (someone committed first), re-commit the same files on the new head. Default false. */
  rebase?: boolean;
  /** Parallel uploads; default 8. */
  concurrency?: number;
  onProgress?(p: CommitProgress): void;
  /** Told when a conflict made the commit rebase onto a newer head. */
  onRebase?(fromParent: number | null, toHead: number): void;
}

export interface DatasetCommitResult {
  dataset: string;
  version: number;
  versionId: string;
  /** False: the content equals the head, so no version was recorded. */
  changed: boolean;
  uploadedFiles: number;
  uploadedBytes: number;
}

export interface RunInputDeclaration {
  dataset: string;
  /** A version number or a tag. */
  version: number | string;
  role: 'train' | 'validation' | 'test' | 'other';
}

export interface RunInputView {
  datasetName: string;
  versionId: string;
  versionNumber: number;
  role: string;
}

export interface DatasetVersionView {
  dataset: string;
  version: number;
  versionId: string;
  parentVersion: number | null;
  manifestSha256: string;
  fileCount: number;
  totalBytes: number;
  message: string;
  author: string;
  tags: string[];
  deprecated: boolean;
  deprecationReason: string | null;
  createdAt: number;
}

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export const MISSING_BATCH = 5_000;
/** Files up to this size travel in batches (`POST /api/v1/blobs/batch`); larger ones one by one. */
export const BATCH_ITEM_MAX = 1024 * 1024;
const BATCH_MAX_ITEMS = 2000;
const BATCH_MAX_BYTES = 16 * 1024 * 1024;
// A few batches in flight keep the server busy; many would only queue on its disk.
const BATCH_PARALLEL = 4;
const FRAME_HEADER = 40;

/** One item of a batch upload: the bytes and the SHA-256 they must hash to. */
export interface BlobBatchItem {
  sha256: string;
  bytes: Uint8Array;
}

/** The value of a hex digit's char code (either case); validSha256 upstream and the server reject anything else. */
const nibble = (c: number) => (c <= 57 ? c - 48 : (c | 32) - 87);

/** The batch wire format: per item its SHA-256 (32 raw bytes), its size (u64 big-endian), its bytes. */
export function encodeBlobBatch(items: readonly BlobBatchItem[]): Uint8Array {
  let total = 0;
  for (const it of items) total += FRAME_HEADER + it.bytes.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const it of items) {
    const h = it.sha256;
    for (let i = 0; i < 32; i++) out[at + i] = (nibble(h.charCodeAt(2 * i)) << 4) | nibble(h.charCodeAt(2 * i + 1));
    view.setBigUint64(at + 32, BigInt(it.bytes.length));
    out.set(it.bytes, at + FRAME_HEADER);
    at += FRAME_HEADER + it.bytes.length;
  }
  return out;
}

/**
 * A request body of these pieces, sent as they are: no copy into one buffer. One piece goes
 * as it is (node:http writes it whole); several as a stream.
 */
function bodyOf(pieces: readonly Uint8Array[]): Uint8Array | ReadableStream<Uint8Array> {
  if (pieces.length === 1) return pieces[0]!;
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next < pieces.length) controller.enqueue(pieces[next++]!);
      else controller.close();
    },
  });
}

async function bytesOf(body: Awaited<ReturnType<DatasetFileInput['open']>>): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/**
 * The canonical manifest the server expects (and re-checks): a JSON line per file with sorted
 * keys, sorted by path in code-unit order.
 */
export function encodeManifest(files: readonly ManifestFile[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  let out = '';
  for (const f of sorted) out += `${JSON.stringify({ path: f.path, sha256: f.sha256, size: f.size })}\n`;
  return out;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const VERSION_FIELDS = 'dataset version versionId parentVersion manifestSha256 fileCount totalBytes message author tags deprecated deprecationReason createdAt';

export interface DatasetsApi {
  create(name: string, description?: string): Promise<void>;
  /** The head version number, or null for a dataset without versions; NOT_FOUND if it does not exist. */
  head(name: string, opts?: ReadOptions): Promise<number | null>;
  version(dataset: string, version: number | string, opts?: ReadOptions): Promise<DatasetVersionView>;
  versions(dataset: string, opts?: ReadOptions): Promise<DatasetVersionView[]>;
  /** Which of these hashes the server lacks (asked in batches). */
  missing(sha256s: readonly string[]): Promise<Set<string>>;
  uploadBlob(sha256: string, body: StreamingBody): Promise<void>;
  /** Stores many small blobs in one request; each is verified against its hash by the server. */
  uploadBlobBatch(items: readonly BlobBatchItem[]): Promise<void>;
  /** The same, for a body already in the batch wire format (`encodeBlobBatch`), possibly in several pieces. */
  uploadEncodedBlobBatch(body: readonly Uint8Array[]): Promise<void>;
  /**
   * Stores content whose hash the caller does not know yet and answers the hash the server
   * computed: a caller hashing the same stream as it sends it compares the two.
   */
  uploadUnaddressed(body: StreamingBody): Promise<{ sha256: string; size: number; created: boolean }>;
  /**
   * Same host only: the server stores a copy of `localFile` (an absolute path on its machine,
   * inside its CHRONICLE_LOCAL_TRANSFER_ROOTS) and answers its hash; FORBIDDEN where not allowed.
   */
  importUnaddressed(localFile: string): Promise<{ sha256: string; size: number; created: boolean }>;
  downloadBlob(sha256: string): Promise<ReadableStream<Uint8Array>>;
  /** Uploads what the server lacks, then records the version last: an interrupted commit leaves no version. */
  commit(dataset: string, files: readonly DatasetFileInput[], opts?: CommitDatasetOptions): Promise<DatasetCommitResult>;
  /** The version a commit builds on (null: none yet), creating the dataset if it does not exist. */
  commitBase(dataset: string): Promise<number | null>;
  /**
   * Records a version of these files on `parent`; every file's content must be stored already.
   * Uploads the manifest, then commits; with `rebase`, re-commits on a newer head on CONFLICT.
   */
  recordVersion(
    dataset: string,
    parent: number | null,
    files: readonly ManifestFile[],
    opts?: Pick<CommitDatasetOptions, 'message' | 'tags' | 'rebase' | 'onRebase'>,
  ): Promise<{ version: number; versionId: string; changed: boolean }>;
  tag(dataset: string, version: number | string, tag: string): Promise<DatasetVersionView>;
  deprecate(dataset: string, version: number | string, reason: string): Promise<DatasetVersionView>;
  declareRunInputs(runId: string, inputs: RunInputDeclaration[]): Promise<RunInputView[]>;
  declareRunOutputs(runId: string, outputs: { dataset: string; version: number | string }[]): Promise<RunInputView[]>;
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export function datasetsApi(t: Transport): DatasetsApi {
  const api: DatasetsApi = {
    async create(name, description = '') {
      await t.graphql('mutation($n: String!, $d: String) { createDataset(name: $n, description: $d) { name } }', { n: name, d: description });
    },
    async head(name, opts = {}) {
      const data = await t.graphql<{ dataset: { latestVersion: number } }>('query($n: String!, $asOf: AsOf) { dataset(name: $n, asOf: $asOf) { latestVersion } }', {
        n: name,
        asOf: asOfVariable(opts.asOf),
      });
      return data.dataset.latestVersion === 0 ? null : data.dataset.latestVersion;
    },
    async version(dataset, version, opts = {}) {
      const data = await t.graphql<{ datasetVersion: DatasetVersionView }>(
        `query($d: String!, $v: String, $asOf: AsOf) { datasetVersion(dataset: $d, version: $v, asOf: $asOf) { ${VERSION_FIELDS} } }`,
        { d: dataset, v: String(version), asOf: asOfVariable(opts.asOf) },
        { retry: true },
      );
      return data.datasetVersion;
    },
    async versions(dataset, opts = {}) {
      const data = await t.graphql<{ dataset: { versions: DatasetVersionView[] } }>(
        `query($d: String!, $asOf: AsOf) { dataset(name: $d, asOf: $asOf) { versions { ${VERSION_FIELDS} } } }`,
        { d: dataset, asOf: asOfVariable(opts.asOf) },
        { retry: true },
      );
      return data.dataset.versions;
    },
    async missing(sha256s) {
      const unique = [...new Set(sha256s)];
      const missing = new Set<string>();
      for (let i = 0; i < unique.length; i += MISSING_BATCH) {
        const res = await t.post<{ missing: string[] }>('/api/v1/blobs/missing', { sha256: unique.slice(i, i + MISSING_BATCH) }, { retry: true });
        for (const h of res.missing) missing.add(h);
      }
      return missing;
    },
    async uploadBlob(sha256, body) {
      const res = await t.request('PUT', `/api/v1/blobs/${sha256}`, { body, headers: { 'content-type': 'application/octet-stream' } });
      if (!res.ok) throw await t.errorOf(res);
      await res.arrayBuffer();
    },
    async uploadBlobBatch(items) {
      if (items.length > 0) await api.uploadEncodedBlobBatch([encodeBlobBatch(items)]);
    },
    async uploadEncodedBlobBatch(body) {
      const res = await t.request('POST', '/api/v1/blobs/batch', {
        body: bodyOf(body),
        // Only success matters here: the server answers counts, not a list of every item.
        headers: { 'content-type': 'application/vnd.chronicle.blob-batch', prefer: 'return=minimal' },
      });
      if (!res.ok) throw await t.errorOf(res);
      await res.arrayBuffer();
    },
    async uploadUnaddressed(body) {
      const res = await t.request('PUT', '/api/v1/blobs', { body, headers: { 'content-type': 'application/octet-stream' } });
      if (!res.ok) throw await t.errorOf(res);
      return (await res.json()) as { sha256: string; size: number; created: boolean };
    },
    async importUnaddressed(localFile) {
      const res = await t.request('PUT', '/api/v1/blobs', { headers: { 'x-chronicle-local-file': localFile } });
      if (!res.ok) throw await t.errorOf(res);
      return (await res.json()) as { sha256: string; size: number; created: boolean };
    },
    async downloadBlob(sha256) {
      return (await t.download(`/api/v1/blobs/${sha256}`)).body;
    },
    async commitBase(dataset) {
      try {
        return await api.head(dataset);
      } catch (e) {
        if (!(e instanceof ChronicleApiError && e.code === 'NOT_FOUND')) throw e;
        try {
          await api.create(dataset);
        } catch (c) {
          // Another committer created it first: commit on top of it like any other.
          if (!(c instanceof ChronicleApiError && c.code === 'CONFLICT')) throw c;
        }
        return api.head(dataset);
      }
    },
    async recordVersion(dataset, parent, files, opts = {}) {
      const manifest = encodeManifest(files);
      const manifestHash = await sha256Hex(manifest);
      await api.uploadBlob(manifestHash, manifest);
      let head = parent;
      for (;;) {
        try {
          const data = await t.graphql<{ commitDatasetVersion: { changed: boolean; version: { version: number; versionId: string } } }>(
            `mutation($d: String!, $p: Int, $m: String!, $msg: String, $tags: [String!]) {
              commitDatasetVersion(dataset: $d, parentVersion: $p, manifestSha256: $m, message: $msg, tags: $tags) { changed version { version versionId } }
            }`,
            { d: dataset, p: head, m: manifestHash, msg: opts.message ?? '', tags: opts.tags ?? [] },
          );
          const r = data.commitDatasetVersion;
          return { version: r.version.version, versionId: r.version.versionId, changed: r.changed };
        } catch (e) {
          if (!(opts.rebase && e instanceof ChronicleApiError && e.code === 'CONFLICT')) throw e;
          const newHead = await api.head(dataset);
          opts.onRebase?.(head, newHead ?? 0);
          head = newHead;
        }
      }
    },
    async commit(dataset, files, opts = {}) {
      const head = await api.commitBase(dataset);
      const total = files.length;
      opts.onProgress?.({ phase: 'checking', done: 0, total, bytes: 0 });
      const missing = await api.missing(files.map((f) => f.sha256));
      const toUpload = new Map<string, DatasetFileInput>();
      for (const f of files) if (missing.has(f.sha256) && !toUpload.has(f.sha256)) toUpload.set(f.sha256, f);
      let done = 0;
      let bytes = 0;
      const uploads = [...toUpload.values()];
      opts.onProgress?.({ phase: 'uploading', done, total: uploads.length, bytes });
      const uploaded = (files: number, size: number) => {
        done += files;
        bytes += size;
        opts.onProgress?.({ phase: 'uploading', done, total: uploads.length, bytes });
      };
      const batches: DatasetFileInput[][] = [];
      const singles: DatasetFileInput[] = [];
      let current: DatasetFileInput[] = [];
      let currentBytes = 0;
      for (const f of uploads) {
        if (f.size > BATCH_ITEM_MAX) {
          singles.push(f);
          continue;
        }
        if (current.length >= BATCH_MAX_ITEMS || (current.length > 0 && currentBytes + f.size > BATCH_MAX_BYTES)) {
          batches.push(current);
          current = [];
          currentBytes = 0;
        }
        current.push(f);
        currentBytes += f.size;
      }
      if (current.length > 0) batches.push(current);
      await Promise.all([
        mapLimit(batches, BATCH_PARALLEL, async (batch) => {
          const items = await Promise.all(batch.map(async (f) => ({ sha256: f.sha256, bytes: await bytesOf(await f.open()) })));
          await api.uploadBlobBatch(items);
          uploaded(items.length, items.reduce((n, it) => n + it.bytes.length, 0));
        }),
        mapLimit(singles, opts.concurrency ?? 8, async (f) => {
          await api.uploadBlob(f.sha256, await f.open());
          uploaded(1, f.size);
        }),
      ]);
      opts.onProgress?.({ phase: 'recording', done: total, total, bytes });
      const r = await api.recordVersion(dataset, head, files, opts);
      return { dataset, ...r, uploadedFiles: uploads.length, uploadedBytes: bytes };
    },
    async tag(dataset, version, tag) {
      const data = await t.graphql<{ tagDatasetVersion: DatasetVersionView }>(
        `mutation($d: String!, $v: String!, $t: String!) { tagDatasetVersion(dataset: $d, version: $v, tag: $t) { ${VERSION_FIELDS} } }`,
        { d: dataset, v: String(version), t: tag },
      );
      return data.tagDatasetVersion;
    },
    async deprecate(dataset, version, reason) {
      const data = await t.graphql<{ deprecateDatasetVersion: DatasetVersionView }>(
        `mutation($d: String!, $v: String!, $r: String!) { deprecateDatasetVersion(dataset: $d, version: $v, reason: $r) { ${VERSION_FIELDS} } }`,
        { d: dataset, v: String(version), r: reason },
      );
      return data.deprecateDatasetVersion;
    },
    async declareRunInputs(runId, inputs) {
      const data = await t.graphql<{ declareRunInputs: RunInputView[] }>(
        'mutation($r: String!, $i: [RunInputDeclaration!]!) { declareRunInputs(runId: $r, inputs: $i) { datasetName versionId versionNumber role } }',
        { r: runId, i: inputs.map((i) => ({ ...i, version: String(i.version) })) },
      );
      return data.declareRunInputs;
    },
    async declareRunOutputs(runId, outputs) {
      const data = await t.graphql<{ declareRunOutputs: RunInputView[] }>(
        'mutation($r: String!, $o: [RunOutputDeclaration!]!) { declareRunOutputs(runId: $r, outputs: $o) { datasetName versionId versionNumber } }',
        { r: runId, o: outputs.map((o) => ({ ...o, version: String(o.version) })) },
      );
      return data.declareRunOutputs;
    },
  };
  return api;
}
