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
