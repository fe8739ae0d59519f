import { isChronicleError, type ChronicleError, type ErrorKind } from '@chronicle/domain';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** The one place where an error kind becomes a wire code and an HTTP status. */
export const errorCodes = {
  validation: ['BAD_USER_INPUT', 400],
  not_found: ['NOT_FOUND', 404],
  conflict: ['CONFLICT', 409],
  illegal_transition: ['FAILED_PRECONDITION', 422],
  forbidden: ['FORBIDDEN', 403],
  unauthenticated: ['UNAUTHENTICATED', 401],
  unavailable: ['SERVICE_UNAVAILABLE', 503],
} as const satisfies Record<ErrorKind, readonly [string, number]>;

export function httpStatusOf(e: ChronicleError): number {
  return errorCodes[e.kind][1];
}

export function codeOf(e: ChronicleError): string {
  return errorCodes[e.kind][0];
}

/** Codes Apollo or graphql-js assign themselves to requests that never reached a resolver. */
const CLIENT_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE']);

/**
 * Known errors keep their message and get their code; anything else is logged by the caller
 * and masked, so no stack trace or internal detail reaches a client.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  original: unknown,
  onUnexpected: (e: unknown) => void,
): GraphQLFormattedError {
  const cause = original instanceof GraphQLError ? (original.originalError ?? original) : original;
  if (isChronicleError(cause))
    return {
      message: cause.message,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: codeOf(cause), ...cause.details },
    };
  const code = formatted.extensions?.['code'];
  if (typeof code === 'string' && CLIENT_CODES.has(code))
    return { message: formatted.message, ...(formatted.locations ? { locations: formatted.locations } : {}), extensions: { code } };
  // A GraphQLError thrown by a scalar's parser is the client's fault too.
  if (cause instanceof GraphQLError && !cause.originalError)
    return { message: formatted.message, ...(formatted.locations ? { locations: formatted.locations } : {}), extensions: { code: 'BAD_USER_INPUT' } };
  onUnexpected(cause);
  return {
    message: 'Internal server error; the server log has the details',
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
