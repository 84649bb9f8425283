// Raw streaming clients for tests (SPEC §9): an SSE stream and a WebSocket subscribed to
// `user:notification`, each recording the notification ids it receives and when the server closed it.
import http from 'node:http';
import WebSocket from 'ws';

export interface OpenStream {
  /** Notification ids received so far. */
  readonly received: string[];
  /** Resolves with the time the server closed the stream. */
  readonly closed: Promise<number>;
  end(): void;
}

/** An SSE stream of `user:notification`, recording what arrives. */
export function openSse(base: string, token: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/api/v1/streaming/user/notification`, { headers: { authorization: `Bearer ${token}` } });
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE answered ${res.statusCode}`));
      const received: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.startsWith('data: ')) received.push(JSON.parse(line.slice(6)).id);
      });
      const closed = new Promise<number>((done) => res.on('close', () => done(Date.now())));
      resolve({ received, closed, end: () => req.destroy() });
    });
  });
}

/** A WebSocket subscribed to `user:notification`, with the token as the subprotocol (as browsers send it). */
export function openWebSocket(base: string, token: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/streaming?stream=user:notification`, token);
    const received: string[] = [];
    ws.on('message', (data) => {
      const message = JSON.parse(String(data));
      if (message.event === 'notification') received.push(JSON.parse(message.payload).id);
    });
    const closed = new Promise<number>((done) => ws.on('close', () => done(Date.now())));
    ws.on('error', reject);
    // The subscription is made on open; give the server a moment to register it.
    ws.on('open', () => setTimeout(() => resolve({ received, closed, end: () => ws.close() }), 100));
  });
}

/** Fails when `promise` takes longer than `ms`. */
export const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} not within ${ms} ms`)), ms))]);
