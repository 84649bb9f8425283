// Logs never hold secrets (SPEC §13, §15): streaming clients may send their token as `?access_token=`, and
// Fastify logs every request's URL. The request serializer writes the URL with that value masked; headers
// (Authorization) are not logged at all by Fastify's own serializer, and stay out.
import type { FastifyRequest } from 'fastify';

const TOKEN_IN_QUERY = /([?&](?:access_token|token)=)[^&#]*/gi;

/** The URL with every `access_token` (and `token`) query value replaced by `[REDACTED]`. */
export const redactUrl = (url: string): string => url.replace(TOKEN_IN_QUERY, '$1[REDACTED]');

/** Fastify's default request serializer, with the URL redacted. */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
