import type { CommandContext } from '@chronicle/commands';
import type { KeyValue } from '@chronicle/domain';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidParameter } from '../wire.js';

/**
 * An MLflow request's fields: GET sends them as query parameters (lists as repeated
 * parameters, every value a string), the other methods as a JSON body.
 */
export type Fields = Record<string, unknown>;

export function fieldsOf(request: FastifyRequest): Fields {
  const body = request.body;
  if (request.method !== 'GET' && body !== undefined && body !== null && body !== '') {
    if (typeof body !== 'object' || Array.isArray(body)) throw invalidParameter('the request body must be a JSON object');
    return body as Fields;
  }
  return (request.query ?? {}) as Fields;
}

const missing = (field: string) => invalidParameter(`Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`);

export function requiredString(f: Fields, field: string): string {
  const v = f[field];
  if (v === undefined || v === null || v === '') throw missing(field);
  if (typeof v !== 'string') throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a string`);
  return v;
}

export function optionalString(f: Fields, field: string): string | undefined {
  const v = f[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a string`);
  return v;
}

/** Model version numbers travel as strings ("3"); JSON numbers are accepted too. */
export function versionNumber(f: Fields, field = 'version'): number {
  const v = f[field];
  if (v === undefined || v === null || v === '') throw missing(field);
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string' || !/^[1-9][0-9]{0,9}$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw invalidParameter(`Parameter '${field}' must be a positive integer version number, got ${JSON.stringify(v)}`);
  return Number(text);
}

export function optionalInteger(f: Fields, field: string): number | undefined {
  const v = f[field];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected an integer`);
  return n;
}

export function optionalBoolean(f: Fields, field: string): boolean | undefined {
  const v = f[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  // Query strings carry Python's str(True) as well as JSON's true.
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a boolean`);
}

/** A repeated field: a JSON array, or one or many query parameters. */
export function stringList(f: Fields, field: string): string[] {
  const v = f[field];
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const item of list)
    if (typeof item !== 'string') throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a list of strings`);
  return list as string[];
}

export function tagList(f: Fields, field = 'tags'): KeyValue[] {
  const v = f[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a list of {key, value}`);
  return v.map((t: unknown) => {
    const tag = t as { key?: unknown; value?: unknown } | null;
    if (!tag || typeof tag.key !== 'string' || tag.key === '')
      throw invalidParameter(`Invalid value ${JSON.stringify(t)} in parameter '${field}': every tag needs a non-empty 'key'`);
    if (tag.value !== undefined && tag.value !== null && typeof tag.value !== 'string')
      throw invalidParameter(`Invalid value ${JSON.stringify(t)} in parameter '${field}': a tag's 'value' is a string`);
    return { key: tag.key, value: (tag.value as string | undefined | null) ?? '' };
  });
}

export function commandContext(request: FastifyRequest): CommandContext {
  const key = request.headers['idempotency-key'];
  return { principal: request.principal, correlationId: request.id, ...(typeof key === 'string' && key ? { idempotencyKey: key } : {}) };
}

/** A client-chosen idempotency key decides retries exactly; without one the registry recognises blind retries. */
export const hasIdempotencyKey = (request: FastifyRequest) => typeof request.headers['idempotency-key'] === 'string';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Serves an MLflow endpoint under `/api/2.0/mlflow` and the UI's `/ajax-api/2.0/mlflow`. */
export function mlflowRoute<R extends FastifyRequest = FastifyRequest>(
  app: FastifyInstance,
  method: Method,
  path: string,
  handler: (request: R, reply: FastifyReply) => Promise<unknown>,
): void {
  for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow'])
    app.route({ method, url: `${prefix}${path}`, handler: handler as (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> });
}
