import { parseMetricValue, ValidationFailed } from '@chronicle/domain';
import type { MetricInput } from '@chronicle/commands';
import type { FastifyInstance } from 'fastify';
import type { Platform } from '../platform.js';

/**
 * Validates points from a request body. Hand-written rather than schema-driven because it
 * runs once per point at hundreds of thousands of points a second.
 */
export function parsePoints(body: unknown): MetricInput[] {
  const list = Array.isArray(body) ? body : (body as { metrics?: unknown } | null)?.metrics;
  if (!Array.isArray(list))
    throw new ValidationFailed('the body must be a JSON array of points, {"metrics": [...]}, or NDJSON with one point per line');
  // The parsed objects are fresh and ours: checked and normalised in place, not copied.
  for (let i = 0; i < list.length; i++) {
    const p = list[i] as { key?: unknown; value?: unknown; step?: unknown; timestamp?: unknown } | null;
    if (p === null || typeof p !== 'object') throw new ValidationFailed(`point ${i} is not an object`, { index: i });
    if (typeof p.key !== 'string') throw new ValidationFailed(`point ${i}: key must be a string`, { index: i });
    if (typeof p.value !== 'number') {
      const value = parseMetricValue(p.value);
      if (value === undefined)
        throw new ValidationFailed(`point ${i}: value must be a number, "NaN", "Infinity" or "-Infinity"`, { index: i });
      p.value = value;
    }
    if (p.step === null) p.step = undefined;
    else if (p.step !== undefined && typeof p.step !== 'number')
      throw new ValidationFailed(`point ${i}: step must be an integer`, { index: i });
    if (p.timestamp === null) p.timestamp = undefined;
    else if (p.timestamp !== undefined && typeof p.timestamp !== 'number')
      throw new ValidationFailed(`point ${i}: timestamp must be milliseconds since the epoch`, { index: i });
  }
  return list as MetricInput[];
}

export function parseNdjson(text: string): unknown[] {
  const out: unknown[] = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const s = raw.trim();
    if (s === '') continue;
    try {
      out.push(JSON.parse(s));
    } catch {
      throw new ValidationFailed(`NDJSON line ${line} is not valid JSON`, { line });
    }
  }
  return out;
}

function badBody(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400 });
}

/** Bulk metric ingestion: the same LogMetrics command as the GraphQL mutation, without GraphQL's per-field cost. */
export function registerIngest(app: FastifyInstance, platform: Platform): void {
  app.register(async (scope) => {
    // Plain JSON.parse: points are read field by field into fresh objects, never merged, so
    // the prototype-poisoning scan of the default parser buys nothing here and costs a tenth
    // of the ingestion time.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch (e) {
        done(badBody(`the body is not valid JSON: ${(e as Error).message}`), undefined);
      }
    });
    scope.addContentTypeParser(['application/x-ndjson', 'application/jsonl'], { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, parseNdjson(body as string));
      } catch (e) {
        done(e as Error, undefined);
      }
    });

    scope.post<{ Params: { runId: string } }>('/api/v1/runs/:runId/metrics', async (request, reply) => {
      const points = parsePoints(request.body);
      const key = request.headers['idempotency-key'];
      const res = await platform.commands.runs.logMetrics(
        {
          principal: request.principal,
          correlationId: request.id,
          ...(typeof key === 'string' && key ? { idempotencyKey: key } : {}),
        },
        request.params.runId,
        points,
      );
      return reply.send({ runId: request.params.runId, accepted: res.accepted, position: res.position, replayed: res.replayed });
    });
  });
}
