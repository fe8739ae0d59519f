import { IllegalTransition, NotFound, requireRole, validateArtifactPath } from '@chronicle/domain';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Platform } from '../platform.js';
import { putFromRequest, type LocalTransfers } from './local-transfers.js';

type ArtifactRequest = FastifyRequest<{ Params: { runId: string; '*': string } }>;

// Artifacts are checkpoints and weights: tens of gigabytes is ordinary. They stream to disk,
// so the JSON body limit that protects the other routes does not apply here.
const NO_BODY_LIMIT = Number.MAX_SAFE_INTEGER;

function commandContext(request: FastifyRequest) {
  const key = request.headers['idempotency-key'];
  return { principal: request.principal, correlationId: request.id, ...(typeof key === 'string' && key ? { idempotencyKey: key } : {}) };
}

/**
 * PUT streams a run artifact into the blob store and records it on the run; GET streams it
 * back, hash-verified. Neither ever holds a file in memory.
 */
export function registerArtifacts(app: FastifyInstance, platform: Platform, transfers: LocalTransfers): void {
  /**
   * GET ...?as=local-file, same host: where the artifact's bytes lie, for the client to copy and
   * check itself, as JSON; a blob kept in a pack has no file of its own (FAILED_PRECONDITION).
   */
  function localFileOf(request: ArtifactRequest, artifact: { sha256: string; size: number; contentType: string }) {
    transfers.checkExport(request.socket.remoteAddress);
    const file = platform.blobs.localFile(artifact.sha256);
    if (!file) throw new IllegalTransition('this artifact is not stored in a file of its own; download it instead', { path: request.params['*'] });
    const { runId, '*': path } = request.params;
    return { runId, path, sha256: artifact.sha256, size: artifact.size, contentType: artifact.contentType, localFile: file.path };
  }

  app.register(async (scope) => {
    // Inside this scope only: any content type is accepted and handed over unread.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.put('/api/v1/runs/:runId/artifacts/*', { bodyLimit: NO_BODY_LIMIT }, async (request: ArtifactRequest, reply) => {
      const { runId } = request.params;
      const path = validateArtifactPath(request.params['*']);
      // Refuse before reading gigabytes that could not be recorded anyway; the command re-checks.
      requireRole(request.principal, 'member', 'logging artifacts');
      if (!platform.read.runs.get(runId)) throw new NotFound(`run ${runId} does not exist`, { runId });
      const contentType = request.headers['content-type'] ?? 'application/octet-stream';
      const blob = await putFromRequest(request, platform.blobs, transfers);
      const res = await platform.commands.artifacts.log(commandContext(request), {
        runId,
        path,
        sha256: blob.sha256,
        size: blob.size,
        contentType,
      });
      return reply
        .code(res.created ? 201 : 200)
        .send({ runId, path, sha256: blob.sha256, size: blob.size, contentType, created: res.created, position: res.position });
    });
  });

  app.get('/api/v1/runs/:runId/artifacts/*', async (request: ArtifactRequest, reply) => {
    const { runId } = request.params;
    const path = request.params['*'];
    const artifact = platform.read.artifacts.get(runId, path);
    if (!artifact) throw new NotFound(`run ${runId} has no artifact "${path}"`, { runId, path });
    if ((request.query as { as?: string }).as === 'local-file') return localFileOf(request, artifact);
    const etag = `"${artifact.sha256}"`;
    reply.header('etag', etag).header('cache-control', 'private, immutable');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return sendArtifact(reply, platform, artifact, { verify: request.headers[CALLER_VERIFIES_HEADER] !== 'client' });
  });
}

/**
 * A client that checks the bytes against `x-content-sha256` itself (the CLI does) sends
 * `x-chronicle-verify: client`, and the content is hashed once, where it is written, not twice.
 */
const CALLER_VERIFIES_HEADER = 'x-chronicle-verify';

/**
 * Streams a run artifact, hash-verified unless the caller verifies: a corrupt blob fails the
 * stream before its last byte, so the client sees a broken download, never wrong content
 * presented as whole.
 */
export async function sendArtifact(
  reply: FastifyReply,
  platform: Platform,
  artifact: { sha256: string; size: number; contentType: string },
  opts: { verify: boolean } = { verify: true },
) {
  const content = await platform.blobs.get(artifact.sha256, { verify: opts.verify });
  return reply
    .header('content-type', artifact.contentType)
    .header('content-length', artifact.size)
    .header('x-content-sha256', artifact.sha256)
    .send(content);
}
