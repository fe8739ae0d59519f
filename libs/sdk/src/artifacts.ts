import type { StreamingBody, Transport } from './transport.js';

export interface ArtifactUpload {
  runId: string;
  path: string;
  sha256: string;
  size: number;
  contentType: string;
  /** False when the run already had this exact content under this path. */
  created: boolean;
}

export interface ArtifactDownload {
  body: ReadableStream<Uint8Array>;
  size: number;
  sha256: string;
  contentType: string;
}

/** Where a stored artifact's bytes lie on the server's machine (same-host downloads). */
export interface ArtifactLocalFile {
  runId: string;
  path: string;
  sha256: string;
  size: number;
  contentType: string;
  localFile: string;
}

export interface ArtifactsApi {
  /** Streams `body` to the run's artifact `path`; other content under a taken path is refused. */
  upload(runId: string, path: string, body: StreamingBody, opts?: { contentType?: string }): Promise<ArtifactUpload>;
  /**
   * Opens the artifact as a stream; fails with NOT_FOUND if there is none. The server checks
   * the content against its hash while sending, unless `callerVerifies`: the caller then hashes
   * what it reads and compares with `sha256` itself (one hash instead of two).
   */
  download(runId: string, path: string, opts?: { callerVerifies?: boolean }): Promise<ArtifactDownload>;
  /**
   * Same host only: the server copies `localFile` (an absolute path on its machine, inside its
   * CHRONICLE_LOCAL_TRANSFER_ROOTS) into the run's artifacts; FORBIDDEN where that is not allowed.
   */
  importLocal(runId: string, path: string, localFile: string, opts?: { contentType?: string }): Promise<ArtifactUpload>;
  /** Same host only: the file holding the artifact's bytes, to copy and check (FORBIDDEN where not allowed). */
  localFile(runId: string, path: string): Promise<ArtifactLocalFile>;
}

const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

export function artifactsApi(t: Transport): ArtifactsApi {
  const url = (runId: string, path: string) => `/api/v1/runs/${encodeURIComponent(runId)}/artifacts/${encodePath(path)}`;
  return {
    async upload(runId, path, body, opts = {}) {
      const res = await t.request('PUT', url(runId, path), {
        body,
        headers: { 'content-type': opts.contentType ?? 'application/octet-stream' },
      });
      if (!res.ok) throw await t.errorOf(res);
      return (await res.json()) as ArtifactUpload;
    },
    async importLocal(runId, path, localFile, opts = {}) {
      const res = await t.request('PUT', url(runId, path), {
        headers: { 'content-type': opts.contentType ?? 'application/octet-stream', 'x-chronicle-local-file': localFile },
      });
      if (!res.ok) throw await t.errorOf(res);
      return (await res.json()) as ArtifactUpload;
    },
    async localFile(runId, path) {
      const res = await t.request('GET', `${url(runId, path)}?as=local-file`);
      if (!res.ok) throw await t.errorOf(res);
      return (await res.json()) as ArtifactLocalFile;
    },
    async download(runId, path, opts = {}) {
      const res = await t.request('GET', url(runId, path), opts.callerVerifies ? { headers: { 'x-chronicle-verify': 'client' } } : {});
      if (!res.ok || !res.body) throw await t.errorOf(res);
      return {
        body: res.body,
        size: Number(res.headers.get('content-length') ?? 0),
        sha256: res.headers.get('x-content-sha256') ?? '',
        contentType: res.headers.get('content-type') ?? 'application/octet-stream',
      };
    },
  };
}
