import { isChronicleError, type ChronicleError } from '@chronicle/domain';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/**
 * MLflow's wire rules, shared by the tracking, registry and artifact routes: errors are
 * `{ error_code, message }` with MLflow's HTTP status for each code (from its
 * `databricks.proto` ErrorCode and `mlflow/exceptions.py`).
 */
export const MLFLOW_STATUS = {
  BAD_REQUEST: 400,
  INVALID_PARAMETER_VALUE: 400,
  INVALID_STATE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  RESOURCE_LIMIT_EXCEEDED: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  NOT_FOUND: 404,
  RESOURCE_CONFLICT: 409,
  ABORTED: 409,
  REQUEST_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
} as const;

export type MlflowErrorCode = keyof typeof MLFLOW_STATUS;

export class MlflowError extends Error {
  constructor(
    readonly errorCode: MlflowErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MlflowError';
  }
  get status(): number {
    return MLFLOW_STATUS[this.errorCode];
  }
}

/** A missing or malformed request field, worded like MLflow's own validation errors. */
export function invalidParameter(message: string): MlflowError {
  return new MlflowError('INVALID_PARAMETER_VALUE', message);
}

/** Chronicle's error kinds in MLflow's vocabulary. */
export function fromChronicleError(e: ChronicleError): MlflowError {
  switch (e.kind) {
    case 'validation':
      return new MlflowError('INVALID_PARAMETER_VALUE', e.message);
    case 'not_found':
      return new MlflowError('RESOURCE_DOES_NOT_EXIST', e.message);
    case 'conflict':
      // Chronicle reports "name taken" and "lost a race" alike as conflicts; MLflow clients
      // only recognise the former, as RESOURCE_ALREADY_EXISTS.
      return /already exists|already taken|is taken/i.test(e.message)
        ? new MlflowError('RESOURCE_ALREADY_EXISTS', e.message)
        : new MlflowError('RESOURCE_CONFLICT', e.message);
    case 'illegal_transition':
      return new MlflowError('INVALID_STATE', e.message);
    case 'forbidden':
      return new MlflowError('PERMISSION_DENIED', e.message);
    case 'unauthenticated':
      return new MlflowError('UNAUTHENTICATED', e.message);
    case 'unavailable':
      return new MlflowError('TEMPORARILY_UNAVAILABLE', e.message);
  }
}

export function sendMlflowError(reply: FastifyReply, error: MlflowError) {
  return reply.code(error.status).type('application/json').send({ error_code: error.errorCode, message: error.message });
}

export function mlflowErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof MlflowError) return sendMlflowError(reply, error);
  if (isChronicleError(error)) return sendMlflowError(reply, fromChronicleError(error));
  const status = (error as FastifyError).statusCode;
  if (status && status >= 400 && status < 500)
    return sendMlflowError(reply, new MlflowError(status === 404 ? 'ENDPOINT_NOT_FOUND' : 'BAD_REQUEST', error.message));
  request.log.error({ err: error }, 'unexpected error in the MLflow API');
  return sendMlflowError(reply, new MlflowError('INTERNAL_ERROR', 'Internal server error; the server log has the details'));
}

/**
 * MLflow encodes non-finite doubles as the strings "NaN", "Infinity" and "-Infinity" in its
 * protobuf-JSON; JSON.stringify would write null.
 */
export function encodeDouble(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/** Accepts a JSON number or MLflow's string forms of a double ("NaN", "Infinity", "1.5"). */
export function decodeDouble(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity' || value === 'inf') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity' || value === '-inf') return Number.NEGATIVE_INFINITY;
    const n = Number(value);
    if (value.trim() !== '' && !Number.isNaN(n)) return n;
  }
  throw invalidParameter(`Invalid value ${JSON.stringify(value)} for parameter '${field}' supplied: expected a double`);
}

/**
 * A request message: the JSON body of a POST, or the query string of a GET (where the client
 * sends every field as text and repeated fields as repeated parameters).
 */
export type MlflowMessage = Record<string, unknown>;

export function messageOf(request: FastifyRequest): MlflowMessage {
  const source = request.method === 'GET' ? request.query : request.body;
  if (source === undefined || source === null || source === '') return {};
  if (typeof source !== 'object' || Array.isArray(source)) throw invalidParameter('The request body must be a JSON object');
  return source as MlflowMessage;
}

const present = (v: unknown) => v !== undefined && v !== null;

/** MLflow's wording for a required field that is missing. */
export function missingParameter(field: string): MlflowError {
  return invalidParameter(`Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`);
}

export function optionalString(m: MlflowMessage, field: string): string | undefined {
  const v = m[field];
  if (!present(v)) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a string`);
}

export function requiredString(m: MlflowMessage, field: string): string {
  const v = optionalString(m, field);
  if (v === undefined || v === '') throw missingParameter(field);
  return v;
}

/** `run_id`, or the older `run_uuid` that clients still send beside it. */
export function runIdOf(m: MlflowMessage): string {
  const id = optionalString(m, 'run_id') || optionalString(m, 'run_uuid');
  if (!id) throw missingParameter('run_id');
  return id;
}

/** A protobuf int64: a JSON number or its decimal text (protobuf-JSON writes int64 as a string). */
export function optionalInt64(m: MlflowMessage, field: string): number | undefined {
  const v = m[field];
  if (!present(v) || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected an integer`);
  return n;
}

export function optionalStringList(m: MlflowMessage, field: string): string[] {
  const v = m[field];
  if (!present(v)) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((item) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number') return String(item);
    throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a list of strings`);
  });
}

/** Repeated `{key, value}` messages (tags, params). A value may be absent, meaning "". */
export function keyValues(m: MlflowMessage, field: string): { key: string; value: string }[] {
  const v = m[field];
  if (!present(v)) return [];
  if (!Array.isArray(v)) throw invalidParameter(`Invalid value for parameter '${field}' supplied: expected a list of {key, value}`);
  return v.map((item, i) => {
    if (item === null || typeof item !== 'object') throw invalidParameter(`${field}[${i}] must be an object with key and value`);
    const kv = item as MlflowMessage;
    const key = optionalString(kv, 'key');
    if (key === undefined) throw missingParameter(`${field}[${i}].key`);
    return { key, value: optionalString(kv, 'value') ?? '' };
  });
}

/** MLflow's run lifecycle names for Chronicle's lifecycle filter. */
export type ViewType = 'active' | 'deleted' | 'all';

export function viewTypeOf(m: MlflowMessage, field: string): ViewType {
  const v = m[field];
  if (!present(v) || v === '') return 'active';
  switch (v) {
    case 'ACTIVE_ONLY':
    case 1:
    case '1':
      return 'active';
    case 'DELETED_ONLY':
    case 2:
    case '2':
      return 'deleted';
    case 'ALL':
    case 3:
    case '3':
      return 'all';
    default:
      throw invalidParameter(`Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected ACTIVE_ONLY, DELETED_ONLY or ALL`);
  }
}
