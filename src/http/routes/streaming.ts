// Streaming (SPEC §9): a WebSocket with Mastodon's subscribe messages, and server-sent events.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { findLiveTokenIds, isExternalSource, type TokenRow } from '../../store/tokens.js';
import { createStreamConnections, type StreamConnections } from '../../stream/stream-connections.js';
import { authorize, bearerToken, READ_NOTIFICATIONS, type Auth } from '../auth.js';
import type { RouteOptions } from '../build-app.js';
import { createStreamHub, type StreamName } from '../../stream/stream-hub.js';
import { isObject } from '../../domain/records.js';

const HEARTBEAT_MS = 15_000;
const SCOPES: Readonly<Record<StreamName, readonly string[]>> = {
  'user:notification': READ_NOTIFICATIONS,
  user: [...READ_NOTIFICATIONS, 'read:statuses'],
};
const isStreamName = (v: unknown): v is StreamName => v === 'user' || v === 'user:notification';

/** Streaming clients send the token in the header, the query, or (browsers' WebSocket) the subprotocol. */
function streamingToken(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown>;
  const protocol = request.headers['sec-websocket-protocol'];
  return (
    bearerToken(request) ??
    (typeof query.access_token === 'string' ? query.access_token : undefined) ??
    (typeof protocol === 'string' && protocol !== '' ? protocol.split(',')[0].trim() : undefined)
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    streamAuth?: { token: TokenRow | undefined; plain: string | undefined };
  }
}

export const streamingRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const hub = createStreamHub({ db: deps.store.db, bus: deps.bus, onError: (error) => app.log.error({ err: error }, 'stream fan-out failed') });
  const tokens = deps.tokens!;
  const connections: StreamConnections = createStreamConnections({
    tokens,
    bus: deps.bus,
    liveTokenIds: (ids) => findLiveTokenIds(deps.store.db, ids),
    onError: (error) => app.log.error({ err: error }, 'stream token sweep failed'),
  });
  app.addHook('onClose', async () => {
    connections.close();
    hub.close();
  });
  /** Tracks a stream under its token, so revoking the token closes it; returns the untracking function. */
  const track = (request: FastifyRequest, close: () => void): (() => void) => {
    const token = request.streamAuth!.token!;
    return connections.add({ tokenId: token.id, external: isExternalSource(token.source), plain: request.streamAuth!.plain!, close });
  };
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  // Looks the token up once; each stream then checks its own scopes.
  const authenticate = async (request: FastifyRequest): Promise<void> => {
    const plain = streamingToken(request);
    request.streamAuth = { token: plain === undefined ? undefined : await tokens.resolve(plain), plain };
    authorize(request.streamAuth.token, plain, SCOPES.user);
  };
  const authFor = (request: FastifyRequest, stream: StreamName): Auth =>
    authorize(request.streamAuth?.token, request.streamAuth?.plain, SCOPES[stream]);

  for (const [path, stream] of [
    ['/api/v1/streaming/user/notification', 'user:notification'],
    ['/api/v1/streaming/user', 'user'],
  ] as const) {
    app.get(path, { preValidation: authenticate }, (request, reply) => {
      const auth = authFor(request, stream);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'access-control-allow-origin': '*',
        'x-accel-buffering': 'no',
      });
      res.write(':)\n\n');
      const stop = hub.listen(auth.accountId, stream, (_s, json) => res.write(`event: notification\ndata: ${json}\n\n`));
      const heartbeat = setInterval(() => res.write(':thump\n\n'), HEARTBEAT_MS);
      const untrack = track(request, () => res.end());
      request.raw.on('close', () => {
        clearInterval(heartbeat);
        untrack();
        stop();
      });
    });
  }

  app.get('/api/v1/streaming', { websocket: true, preValidation: authenticate }, (socket: WebSocket, request) => {
    const subscriptions = new Map<StreamName, () => void>();
    const send = (stream: StreamName, json: string): void => {
      socket.send(JSON.stringify({ stream: [stream], event: 'notification', payload: json }));
    };
    const subscribe = (stream: unknown): void => {
      if (!isStreamName(stream)) return socket.send(JSON.stringify({ error: 'Unknown stream type', status: 400 }));
      if (subscriptions.has(stream)) return;
      let auth: Auth;
      try {
        auth = authFor(request, stream);
      } catch {
        return socket.send(JSON.stringify({ error: 'Access token does not have the required scopes', status: 401 }));
      }
      subscriptions.set(stream, hub.listen(auth.accountId, stream, send));
    };
    const initial = (request.query as Record<string, unknown>).stream;
    if (initial !== undefined) subscribe(initial);
    socket.on('message', (data) => {
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return socket.send(JSON.stringify({ error: 'Invalid JSON', status: 400 }));
      }
      if (!isObject(message)) return;
      if (message.type === 'subscribe') subscribe(message.stream);
      else if (message.type === 'unsubscribe' && isStreamName(message.stream)) {
        subscriptions.get(message.stream)?.();
        subscriptions.delete(message.stream);
      }
    });
    const untrack = track(request, () => socket.close());
    socket.on('close', () => {
      untrack();
      for (const stop of subscriptions.values()) stop();
      subscriptions.clear();
    });
  });
};
