// The edges every request meets before any route (SPEC §15): timeouts, the connection cap, size limits, and
// answers from below the framework (Node's HTTP parser) kept in SPEC §1.2's form.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HeraldError } from '../domain/errors.js';

export interface HttpTimeouts {
  /** A request's headers must arrive within this. */
  readonly headersMs: number;
  /** The whole request (headers and body); streams are exempt once established. */
  readonly requestMs: number;
  /** Idle keep-alive connections close after this. */
  readonly keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 65_000 };
/** SPEC §15: client API bodies; the admin API takes up to BODY_LIMIT. */
export const CLIENT_BODY_LIMIT = 64 * 1024;
/** URLs longer than this are a 414; Node's 16 KiB header limit (431) would come first for longer ones. */
export const MAX_URL_LENGTH = 8 * 1024;

/** Options for Node's HTTP server: its timeout checks run every second, not every 30 (Node's default). */
export const httpServerOptions = (timeouts: HttpTimeouts): http.ServerOptions => ({
  headersTimeout: timeouts.headersMs,
  requestTimeout: timeouts.requestMs,
  keepAliveTimeout: timeouts.keepAliveMs,
  connectionsCheckingInterval: 1_000,
});

/** What Node's parser refuses, answered as every other error (SPEC §1.2) and the connection closed. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request timeout']
    : error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request header fields too large']
    : [400, 'Bad request'];
  const body = JSON.stringify({ error: message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Caps connections and refuses over-long URLs; applies the client API's body limit to its routes. */
export function registerServerLimits(app: FastifyInstance, maxConnections: number): void {
  app.server.maxConnections = maxConnections;
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.url.length > MAX_URL_LENGTH) throw new HeraldError('ERR_URI_TOO_LONG', 'URI too long');
    done();
  });
}

/** The client API's routes take at most CLIENT_BODY_LIMIT unless they say otherwise. */
export function limitClientBodies(api: FastifyInstance): void {
  api.addHook('onRoute', (route) => {
    route.bodyLimit ??= CLIENT_BODY_LIMIT;
  });
}

/**
 * A response sent before the request's body was read (an early 401, 404, 413) closes the connection: the
 * unread body would otherwise be taken for the next request, or hold the socket (SPEC §15).
 */
export function closeIfBodyUnread(request: FastifyRequest, reply: FastifyReply): void {
  if (!request.raw.complete) reply.header('connection', 'close');
}
