import type { Readable } from 'node:stream';
import { validSha256, type BlobStore, type PutResult } from '@chronicle/blobs';
import { requireRole, ValidationFailed } from '@chronicle/domain';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Platform } from '../platform.js';
import { putFromRequest, type LocalTransfers } from './local-transfers.js';
import { MAX_BATCH_BYTES, PayloadTooLarge, readBatch, type BatchItem } from './blob-batch.js';

// Dataset files and manifests are addressed by content; one may be gigabytes.
const NO_BODY_LIMIT = Number.MAX_SAFE_INTEGER;
/** Hashes per existence check; a 100k-file commit asks in a few dozen requests. */
export const MAX_MISSING_BATCH = 10_000;
/** Batch items are stored in packs of about this size (see the blob store's packs). */
const PACK_GROUP_BYTES = 16 * 1024 * 1024;

/**
 * Stores every item of a batch body, verified against its hash. Items are gathered into
 * groups written as one pack each: one durable write per group, not per file.
 */
async function storeBatch(blobs: BlobStore, body: AsyncIterable<Buffer | string>): Promise<PutResult[]> {
  const results: PutResult[] = [];
  let group: BatchItem[] = [];
  let groupBytes = 0;
  const storeGroup = async () => {
    const stored = await blobs.putMany(group);
    for (const [i, item] of group.entries()) results[item.index] = stored[i]!;
    group = [];
    groupBytes = 0;
  };
  try {
    for await (const item of readBatch(body)) {
      group.push(item);
      groupBytes += item.bytes.length;
      if (groupBytes >= PACK_GROUP_BYTES) await storeGroup();
    }
    if (group.length > 0) await storeGroup();
  } catch (e) {
    // The pack names the item by its place in the group; the client knows it by its place in the batch.
    if (e instanceof ValidationFailed && typeof e.details['item'] === 'number' && 'expected' in e.details) {
      const item = group[e.details['item']]!;
      throw new ValidationFailed(`batch item ${item.index} hashes to ${String(e.details['actual'])}, not the ${item.sha256} it was sent with`, {
        ...e.details,
        item: item.index,
      });
    }
    throw e;
  }
  return results;
}

type BlobRequest = FastifyRequest<{ Params: { sha256: string } }>;

/**
 * Content-addressed blobs over REST: which of these do you lack, store this (verified against
 * its address, idempotent), give me that (verified while streamed).
 */
export function registerBlobs(app: FastifyInstance, platform: Platform, transfers: LocalTransfers): void {
  app.post('/api/v1/blobs/missing', async (request) => {
    requireRole(request.principal, 'member', 'uploading blobs');
    const body = request.body as { sha256?: unknown } | null;
    const hashes = body?.sha256;
    if (!Array.isArray(hashes) || hashes.length > MAX_MISSING_BATCH || hashes.some((h) => typeof h !== 'string'))
      throw new ValidationFailed(`sha256 must be a list of at most ${MAX_MISSING_BATCH} SHA-256 hex strings`, { field: 'sha256' });
    const unique = [...new Set(hashes as string[])];
    const found = await platform.blobs.statMany(unique);
    const missing = unique.filter((_, i) => found[i] === null);
    return { missing: missing.sort() };
  });

  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.put('/api/v1/blobs/:sha256', { bodyLimit: NO_BODY_LIMIT }, async (request: BlobRequest, reply) => {
      requireRole(request.principal, 'member', 'uploading blobs');
      const sha256 = validSha256(request.params.sha256);
      const blob = await putFromRequest(request, platform.blobs, transfers, { expectedSha256: sha256 });
      return reply.code(blob.created ? 201 : 200).send({ sha256: blob.sha256, size: blob.size, created: blob.created });
    });

    // Content whose hash the client has not computed yet: it hashes while it uploads and
    // compares its hash with the one answered here, so the two hashings overlap.
    scope.put('/api/v1/blobs', { bodyLimit: NO_BODY_LIMIT }, async (request, reply) => {
      requireRole(request.principal, 'member', 'uploading blobs');
      const blob = await putFromRequest(request, platform.blobs, transfers);
      return reply.code(blob.created ? 201 : 200).send({ sha256: blob.sha256, size: blob.size, created: blob.created });
    });

    // Many small blobs in one request: per-request costs (auth, routing, a round trip) would
    // otherwise dominate. Items already stored are verified and answered `created: false`.
    scope.post('/api/v1/blobs/batch', { bodyLimit: NO_BODY_LIMIT }, async (request, reply) => {
      requireRole(request.principal, 'member', 'uploading blobs');
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > MAX_BATCH_BYTES)
        throw new PayloadTooLarge(`a batch upload carries at most ${MAX_BATCH_BYTES} bytes; upload larger files with PUT /api/v1/blobs/:sha256`);
      const body = (request.body as Readable | undefined) ?? request.raw;
      const stored = await storeBatch(platform.blobs, body);
      // `Prefer: return=minimal` (RFC 7240): a client that only needs to know that all were
      // stored is spared a list of every item (about 11 MB of JSON for 100,000 files).
      if (/\breturn=minimal\b/i.test(String(request.headers['prefer'] ?? '')))
        return reply.code(200).send({ stored: stored.length, created: stored.reduce((n, b) => n + (b.created ? 1 : 0), 0) });
      return reply.code(200).send({ blobs: stored.map((b) => ({ sha256: b.sha256, size: b.size, created: b.created })) });
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
