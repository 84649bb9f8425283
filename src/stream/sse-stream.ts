// A server-sent events stream (SPEC §9): `:)` first, then `event: <name>\ndata: <payload>\n\n` per event, and a
// `:thump` comment every 15 s so proxies keep it open.
import type { ServerResponse } from 'node:http';
import type { StreamName } from './stream-auth.js';
import type { StreamHub } from './stream-hub.js';
import { subscribe, type StreamCaller } from './stream-subscriber.js';

export const SSE_HEARTBEAT_MS = 15_000;

export interface SseStream {
  /** Ends the stream from the server's side (revocation, shutdown). */
  end(): void;
}

/** Starts streaming on a hijacked response; `onClose` runs once when the stream ends, from either side. */
export function startSseStream(
  res: ServerResponse,
  deps: { hub: StreamHub; caller: StreamCaller; stream: StreamName; onClose: () => void },
): SseStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'access-control-allow-origin': '*',
    // nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  res.write(':)\n\n');
  const stop = subscribe(deps.hub, deps.caller, deps.stream, ({ event, payload }) => res.write(`event: ${event}\ndata: ${payload}\n\n`));
  const heartbeat = setInterval(() => res.write(':thump\n\n'), SSE_HEARTBEAT_MS);
  res.once('close', () => {
    clearInterval(heartbeat);
    stop();
    deps.onClose();
  });
  return { end: () => res.end() };
}
