// One WebSocket connection speaking Mastodon's streaming protocol (SPEC §9): subscribe and unsubscribe
// messages (or `?stream=` in the URL), one text frame per event with keys `stream, event, payload`, errors as
// small JSON messages, a ping every 30 s so proxies keep the connection open.
import type { WebSocket } from 'ws';
import { isObject } from '../domain/records.js';
import { isStreamName, type StreamName } from './stream-auth.js';
import type { StreamHub } from './stream-hub.js';
import { refusal, subscribe, type StreamCaller } from './stream-subscriber.js';

export const WEBSOCKET_PING_MS = 30_000;
/** RFC 6455 §7.4.1: "going away", as a server does when it shuts down. */
export const CLOSE_GOING_AWAY = 1001;

export function serveWebSocket(
  socket: WebSocket,
  deps: { hub: StreamHub; caller: StreamCaller; initialStream: unknown; onClose: () => void },
): void {
  const subscriptions = new Map<StreamName, () => void>();
  const send = (message: object): void => socket.send(JSON.stringify(message));

  const start = (stream: unknown): void => {
    if (!isStreamName(stream)) return send({ error: 'Unknown stream type', status: 400 });
    // A second subscribe to the same stream adds nothing.
    if (subscriptions.has(stream)) return;
    const refused = refusal(deps.caller, stream);
    if (refused) return send(refused);
    subscriptions.set(
      stream,
      subscribe(deps.hub, deps.caller, stream, ({ event, payload }) => send({ stream: [stream], event, payload })),
    );
  };
  const stop = (stream: unknown): void => {
    if (!isStreamName(stream)) return;
    subscriptions.get(stream)?.();
    subscriptions.delete(stream);
  };

  if (deps.initialStream !== undefined) start(deps.initialStream);
  socket.on('message', (data) => {
    let message: unknown;
    try {
      message = JSON.parse(String(data));
    } catch {
      return send({ error: 'Invalid JSON', status: 400 });
    }
    if (!isObject(message)) return;
    if (message.type === 'subscribe') start(message.stream);
    else if (message.type === 'unsubscribe') stop(message.stream);
  });
  const ping = setInterval(() => socket.ping(), WEBSOCKET_PING_MS);
  socket.on('close', () => {
    clearInterval(ping);
    for (const unsubscribe of subscriptions.values()) unsubscribe();
    subscriptions.clear();
    deps.onClose();
  });
}
