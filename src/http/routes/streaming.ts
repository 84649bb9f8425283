// Streaming over HTTP (SPEC §9): the WebSocket endpoint, the server-sent events endpoints and the health
// check. Who the caller is and what a stream may carry live in src/stream/; this file is the HTTP edge.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Gauge } from 'prom-client';
import type { WebSocket } from 'ws';
import { HeraldError } from '../../domain/errors.js';
import { findLiveTokenIds, isExternalSource, type TokenRow } from '../../store/tokens.js';
import { streamingToken, type StreamName } from '../../stream/stream-auth.js';
import { createStreamConnections } from '../../stream/stream-connections.js';
import { createStreamHub } from '../../stream/stream-hub.js';
import { refusal, type StreamCaller } from '../../stream/stream-subscriber.js';
import { startSseStream } from '../../stream/sse-stream.js';
import { CLOSE_GOING_AWAY, serveWebSocket } from '../../stream/websocket-stream.js';
import type { RouteOptions } from '../build-app.js';

declare module 'fastify' {
  interface FastifyRequest {
    streamToken?: { row: TokenRow; plain: string };
  }
  interface FastifyContextConfig {
    /** A WebSocket route: upgrade requests to any other route are answered 404 (build-app.ts). */
    acceptsUpgrade?: boolean;
  }
}

const SSE_PATHS: readonly [string, StreamName][] = [
  ['/api/v1/streaming/user/notification', 'user:notification'],
  ['/api/v1/streaming/user', 'user'],
];
// Mastodon's web app opens the trailing-slash form.
const WEBSOCKET_PATHS = ['/api/v1/streaming', '/api/v1/streaming/'];

const callerOf = (request: FastifyRequest): StreamCaller => {
  const { row } = request.streamToken!;
  return { accountId: row.account_id, scopes: row.scopes.split(' ').filter(Boolean) };
};

export const streamingRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const tokens = deps.tokens!;
  const hub = createStreamHub({ db: deps.store.db, bus: deps.bus, onError: (err) => app.log.error({ err }, 'stream fan-out failed') });
  const connections = createStreamConnections({
    tokens,
    bus: deps.bus,
    liveTokenIds: (ids) => findLiveTokenIds(deps.store.db, ids),
    onError: (err) => app.log.error({ err }, 'stream token sweep failed'),
  });
  if (deps.metricsRegistry) {
    new Gauge({
      name: 'herald_streams_open',
      help: 'Open streaming connections, by kind (websocket, sse)',
      labelNames: ['kind'] as const,
      registers: [deps.metricsRegistry],
      collect() {
        this.set({ kind: 'websocket' }, connections.count('websocket'));
        this.set({ kind: 'sse' }, connections.count('sse'));
      },
    });
  }
  deps.activity?.countStreamsWith(() => connections.count('websocket') + connections.count('sse'));
  // Before the server stops accepting and waits for its connections: open streams would hold it forever.
  app.addHook('preClose', async () => connections.close());
  app.addHook('onClose', async () => hub.close());

  /** Before any upgrade or stream: a missing, unknown or revoked token is a 401 (SPEC §9). */
  const authenticate = async (request: FastifyRequest): Promise<void> => {
    const given = streamingToken(request.headers, request.query as Record<string, unknown>);
    const row = given === undefined ? undefined : await tokens.resolve(given.token);
    if (!row) throw new HeraldError('ERR_TOKEN_INVALID', 'The access token is invalid');
    request.streamToken = { row, plain: given!.token };
  };
  const track = (request: FastifyRequest, kind: 'websocket' | 'sse', close: (reason: 'revoked' | 'shutdown') => void) => {
    const { row, plain } = request.streamToken!;
    return connections.add({ kind, tokenId: row.id, external: isExternalSource(row.source), plain, close });
  };

  app.get('/api/v1/streaming/health', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('OK'));

  for (const [path, stream] of SSE_PATHS) {
    app.get(path, { preValidation: authenticate }, (request, reply) => {
      const caller = callerOf(request);
      const refused = refusal(caller, stream);
      if (refused) {
        throw refused.status === 422
          ? new HeraldError('ERR_USER_REQUIRED', refused.error)
          : new HeraldError('ERR_SCOPE', 'This action is outside the authorized scopes');
      }
      reply.hijack();
      let untrack = (): void => {};
      const sse = startSseStream(reply.raw, { hub, caller, stream, onClose: () => untrack() });
      untrack = track(request, 'sse', () => sse.end());
    });
  }

  for (const path of WEBSOCKET_PATHS) {
    // A valid token is upgraded whatever its scopes; each subscription is judged on its own (SPEC §9).
    app.get(path, { websocket: true, config: { acceptsUpgrade: true }, preValidation: authenticate }, (socket: WebSocket, request) => {
      const untrack = track(request, 'websocket', (reason) => (reason === 'shutdown' ? socket.close(CLOSE_GOING_AWAY) : socket.close()));
      serveWebSocket(socket, {
        hub,
        caller: callerOf(request),
        initialStream: (request.query as Record<string, unknown>).stream,
        onClose: untrack,
      });
    });
  }
};
