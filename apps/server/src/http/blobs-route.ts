import type { Readable } from 'node:stream';
import { validSha256 } from '@chronicle/blobs';
import { requireRole, ValidationFailed } from '@chronicle/domain';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../platform.js';

// Dataset files and manifests are addressed by content; one may be gigabytes.
const NO_BODY_LIMIT = Number.MAX_SAFE_INTEGER;
/** Hashes per existence check; a 100k-file commit asks in a few dozen requests. */
export const MAX_MISSING_BATCH = 10_000;
const STAT_CONCURRENCY = 64;

type BlobRequest = FastifyRequest<{ Params: { sha256: string } }>;

/**
 * Content-addressed blobs over REST: which of these do you lack, store this (verified against
 * its address, idempotent), give me that (verified while streamed).
 */
export function registerBlobs(app: FastifyInstance, platform: Platform): void {
  app.post('/api/v1/blobs/missing', async (request) => {
    requireRole(request.principal, 'member', 'uploading blobs');
    const body = request.body as { sha256?: unknown } | null;
    const hashes = body?.sha256;
    if (!Array.isArray(hashes) || hashes.length > MAX_MISSING_BATCH || hashes.some((h) => typeof h !== 'string'))
      throw new ValidationFailed(`sha256 must be a list of at most ${MAX_MISSING_BATCH} SHA-256 hex strings`, { field: 'sha256' });
    const unique = [...new Set(hashes as string[])].map(validSha256);
    const missing: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(STAT_CONCURRENCY, unique.length) }, async () => {
        while (next < unique.length) {
          const h = unique[next++]!;
          if (!(await platform.blobs.has(h))) missing.push(h);
        }
      }),
    );
    return { missing: missing.sort() };
  });

  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.put('/api/v1/blobs/:sha256', { bodyLimit: NO_BODY_LIMIT }, async (request: BlobRequest, reply) => {
      requireRole(request.principal, 'member', 'uploading blobs');
      const sha256 = validSha256(request.params.sha256);
      const body = (request.body as Readable | undefined) ?? request.raw;
      const blob = await platform.blobs.put(body, { expectedSha256: sha256 });
      return reply.code(blob.created ? 201 : 200).send({ sha256: blob.sha256, size: blob.size, created: blob.created });
    });
  });

  app.get('/api/v1/blobs/:sha256', async (request: BlobRequest, reply) => {
    const sha256 = validSha256(request.params.sha256);
    const info = await platform.blobs.stat(sha256);
    const content = await platform.blobs.get(sha256, { verify: true });
    reply.header('cache-control', 'private, immutable').header('etag', `"${sha256}"`);
    if (info) reply.header('content-length', info.size);
    return reply.type('application/octet-stream').send(content);
  });
}
