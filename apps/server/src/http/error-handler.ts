import { codeOf, httpStatusOf } from '@chronicle/graphql';
import { isChronicleError } from '@chronicle/domain';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** REST errors: `{ error: { code, message, ...details } }` with the status of the error's kind. */
export function sendError(reply: FastifyReply, status: number, code: string, message: string, details: object = {}) {
  // GraphQL clients read `errors[].extensions.code`, even when the request never reached GraphQL.
  const body = reply.request.url.startsWith('/graphql')
    ? { errors: [{ message, extensions: { code, ...details } }] }
    : { error: { code, message, ...details } };
  return reply.code(status).type('application/json').send(body);
}

const FASTIFY_CODES: Record<number, string> = {
  400: 'BAD_USER_INPUT',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (isChronicleError(error)) return sendError(reply, httpStatusOf(error), codeOf(error), error.message, error.details);
  const status = (error as FastifyError).statusCode;
  if (status && status >= 400 && status < 500)
    return sendError(reply, status, FASTIFY_CODES[status] ?? 'BAD_REQUEST', error.message);
  request.log.error({ err: error }, 'unexpected error');
  return sendError(reply, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error; the server log has the details');
}
