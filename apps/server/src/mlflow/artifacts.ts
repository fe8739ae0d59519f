import type { Readable } from 'node:stream';
import { requireRole, validateArtifactPath } from '@chronicle/domain';
import type { ArtifactView } from '@chronicle/projections';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendArtifact } from '../http/artifacts-route.js';
import type { Platform } from '../platform.js';
import { commandContext, endpoint } from './tracking/routes.js';
import { runArtifactUri } from './tracking/views.js';
import { invalidParameter, MlflowError, optionalString, runIdOf } from './wire.js';

// Artifacts are checkpoints and weights: gigabytes are ordinary. They stream to the blob
// store, so the JSON body limit of the other routes does not apply.
const NO_BODY_LIMIT = Number.MAX_SAFE_INTEGER;
const ROOT = '/api/2.0/mlflow-artifacts/artifacts';

/** Where a proxied artifact path points: `<experiment>/<run>/artifacts[/<path>]`. */
export interface ArtifactLocation {
  runId: string;
  /** Relative to the run's artifact root; '' for the root itself. */
  path: string;
}

export function parseArtifactLocation(raw: string): ArtifactLocation | null {
  const clean = raw.replace(/^\/+|\/+$/g, '');
  const segments = clean.split('/');
  if (segments.length < 3 || segments[2] !== 'artifacts' || !segments[0] || !segments[1]) return null;
  const path = segments.slice(3).join('/');
  if (path !== '') validateArtifactPath(path);
  return { runId: segments[1], path };
}

export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

/** The entries directly under `dir` ('' = root), as MLflow lists a directory: files with sizes, then sub-directories. */
export function listDirectory(artifacts: readonly ArtifactView[], dir: string): FileInfo[] {
  const prefix = dir === '' ? '' : `${dir}/`;
  const entries = new Map<string, FileInfo>();
  for (const a of artifacts) {
    if (!a.path.startsWith(prefix)) continue;
    const rest = a.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) entries.set(rest, { path: rest, is_dir: false, file_size: a.size });
    else if (!entries.has(rest.slice(0, slash))) entries.set(rest.slice(0, slash), { path: rest.slice(0, slash), is_dir: true });
  }
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Proxied artifacts (`mlflow-artifacts:` URIs): uploads stream into Chronicle's
 * content-addressed blob store and become the run's artifacts, the same ones GraphQL lists
 * and `/api/v1/runs/:id/artifacts` serves; downloads stream back, hash-verified.
 */
export function registerMlflowArtifacts(app: FastifyInstance, platform: Platform): void {
  const runOf = (runId: string) => {
    const run = platform.read.runs.get(runId);
    if (!run) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
    return run;
  };
  const locate = (raw: string) => {
    const loc = parseArtifactLocation(raw);
    if (!loc)
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No artifact at '${raw}': proxied artifact paths look like <experiment_id>/<run_id>/artifacts/<path>`);
    return loc;
  };

  void app.register(async (scope) => {
    // Inside this scope only: any content type is accepted and handed over unread.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.put(`${ROOT}/*`, { bodyLimit: NO_BODY_LIMIT }, async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
      const loc = locate(request.params['*']);
      if (loc.path === '') throw invalidParameter('An artifact upload needs a file path under the run\'s artifact root');
      // Refuse before reading gigabytes that could not be recorded anyway; the command re-checks.
      requireRole(request.principal, 'member', 'logging artifacts');
      runOf(loc.runId);
      const body = (request.body as Readable | undefined) ?? request.raw;
      const blob = await platform.blobs.put(body);
      // Same path, same bytes is a no-op, so a retried upload records nothing twice.
      await platform.commands.artifacts.log(commandContext(request), {
        runId: loc.runId,
        path: loc.path,
        sha256: blob.sha256,
        size: blob.size,
        contentType: request.headers['content-type'] ?? 'application/octet-stream',
      });
      return reply.send({});
    });

    scope.delete(`${ROOT}/*`, async () => {
      throw invalidParameter(
        "Chronicle keeps artifacts immutable: they are part of the run's history and may back a registered model version",
      );
    });
  });

  app.get(`${ROOT}/*`, async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    const loc = locate(request.params['*']);
    runOf(loc.runId);
    const artifact = platform.read.artifacts.get(loc.runId, loc.path);
    if (!artifact) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run ${loc.runId} has no artifact '${loc.path}'`);
    return sendArtifact(reply, platform, artifact);
  });

  app.get(ROOT, async (request: FastifyRequest<{ Querystring: { path?: string } }>) => {
    const raw = typeof request.query.path === 'string' ? request.query.path : '';
    const loc = parseArtifactLocation(raw);
    // Above a run's artifact root there are no files of Chronicle's to list.
    if (!loc) return {};
    runOf(loc.runId);
    const files = listDirectory(platform.read.artifacts.list(loc.runId), loc.path);
    return files.length ? { files } : {};
  });

  // The tracking API's listing, relative to the run's artifact root (the UI and older clients).
  endpoint(app, 'GET', '/artifacts/list', async (m) => {
    const run = runOf(runIdOf(m));
    const dir = (optionalString(m, 'path') ?? '').replace(/^\/+|\/+$/g, '');
    if (dir !== '') validateArtifactPath(dir);
    const files = listDirectory(platform.read.artifacts.list(run.runId), dir).map((f) => ({
      ...f,
      path: dir === '' ? f.path : `${dir}/${f.path}`,
    }));
    return { root_uri: runArtifactUri(run.experimentId, run.runId), ...(files.length ? { files } : {}) };
  });
}
