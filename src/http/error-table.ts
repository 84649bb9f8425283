// The one place where errors become HTTP: domain codes and Fastify's own errors to status and Mastodon body.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError, type ErrorCode } from '../domain/errors.js';
import { closeIfBodyUnread } from './server-limits.js';

const STATUS: Readonly<Record<ErrorCode, number>> = {
  ERR_NOT_FOUND: 404,
  ERR_VALIDATION: 422,
  ERR_BAD_PARAMETER: 400,
  ERR_CONFLICT: 409,
  ERR_TOKEN_INVALID: 401,
  ERR_SCOPE: 403,
  ERR_USER_REQUIRED: 422,
  ERR_RATE_LIMITED: 429,
  ERR_PAYLOAD_TOO_LARGE: 413,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_AUTH_UNAVAILABLE: 503,
  ERR_URI_TOO_LONG: 414,
};

/** SPEC §13: a client told the authentication service is down may try again in 5 s. */
const RETRY_AFTER: Partial<Record<ErrorCode, string>> = { ERR_AUTH_UNAVAILABLE: '5' };

/** Fastify's errors for malformed requests, with the text a client sees. */
const FASTIFY: Readonly<Record<string, [number, string]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'Payload too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'Unsupported media type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'Invalid Content-Length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'Body cannot be empty when content-type is set to application/json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'Invalid JSON body'],
  // SPEC §15: Herald takes no files; a file part is a validation error, not a size one.
  FST_REQ_FILE_TOO_LARGE: [422, 'Validation failed: file uploads are not accepted'],
  FST_FILES_LIMIT: [422, 'Validation failed: file uploads are not accepted'],
  FST_FIELDS_LIMIT: [400, 'Too many parameters'],
  FST_PARTS_LIMIT: [400, 'Too many parameters'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [400, 'Invalid multipart body'],
  // Routing errors, through the `frameworkErrors` option: an id longer than any route takes names nothing.
  FST_ERR_MAX_PARAM_LENGTH: [404, 'Record not found'],
  FST_ERR_BAD_URL: [400, 'Invalid URL'],
};

/**
 * The multipart parser (busboy) throws plain Errors without a code for a malformed body: no boundary, a body
 * that ends early, a boundary too long to search for. Their texts are all there is to recognise them by.
 */
const MALFORMED_MULTIPART = /^Multipart: |unexpected end of multipart data|^The needle cannot/i;

export function toHttpError(error: unknown): { status: number; message: string; retryAfter?: string } | undefined {
  if (error instanceof HeraldError) return { status: STATUS[error.code], message: error.message, retryAfter: RETRY_AFTER[error.code] };
  const e = error as Partial<FastifyError> & { status?: number };
  if (typeof e.code === 'string' && FASTIFY[e.code]) {
    const [status, message] = FASTIFY[e.code];
    return { status, message };
  }
  if (error instanceof Error && e.code === undefined && MALFORMED_MULTIPART.test(error.message)) {
    return { status: 400, message: 'Invalid multipart body' };
  }
  if (error instanceof SyntaxError || e.code === 'FST_ERR_VALIDATION') {
    return { status: 400, message: error instanceof SyntaxError ? 'Invalid JSON body' : String(e.message) };
  }
  const status = e.statusCode ?? e.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, message: typeof e.message === 'string' && e.message !== '' ? e.message : 'Bad request' };
  }
  return undefined;
}

export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const known = toHttpError(error);
  if (known) {
    closeIfBodyUnread(request, reply);
    if (known.retryAfter !== undefined) reply.header('retry-after', known.retryAfter);
    reply.code(known.status).type('application/json; charset=utf-8').send({ error: known.message });
    return;
  }
  // Internals stay in the log, keyed by the request id; the client gets the generic text (SPEC §1.2).
  request.log.error({ err: error, reqId: request.id }, 'unhandled error');
  reply.code(500).type('application/json; charset=utf-8').send({ error: 'Internal server error' });
}
