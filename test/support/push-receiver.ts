// A local push service for tests, on 127.0.0.1 only: it records every request, answers as scripted per
// path (201 by default; any status with headers, a hang, or a connection reset), and holds browser-side
// keys so a test can decrypt what arrived with the independent `http_ece` package.
import { createECDH, randomBytes, type ECDH } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import ece from 'http_ece';

export interface ReceivedPush {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly at: number;
}

export type ScriptedReply =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string; readonly delayMs?: number }
  | 'hang'
  | 'reset';

/** A browser's side of one subscription: where it listens and the keys it gave the server. */
export interface BrowserSubscription {
  readonly endpoint: string;
  readonly path: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
  /** Decrypts a push as a browser would (http_ece), either encoding, from its headers. */
  decrypt(push: ReceivedPush): string;
  /** The pushes this subscription received so far. */
  received(): ReceivedPush[];
}

export interface PushReceiver {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly received: ReceivedPush[];
  /** TCP connections accepted so far (keep-alive reuses them). */
  readonly connections: number;
  /** Most requests open at the same time so far. */
  readonly peakInFlight: number;
  /** Answers for `path`, used in order; the last one repeats. Replaces an earlier script. */
  script(path: string, replies: readonly ScriptedReply[]): void;
  /** Answers for every path without a script of its own. */
  scriptDefault(replies: readonly ScriptedReply[]): void;
  browser(path: string): BrowserSubscription;
  /** Polls until `ready()` holds; fails after `timeoutMs`. */
  waitFor(ready: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startPushReceiver(): Promise<PushReceiver> {
  const received: ReceivedPush[] = [];
  const scripts = new Map<string, { replies: ScriptedReply[]; next: number }>();
  let fallback: { replies: ScriptedReply[]; next: number } = { replies: [{ status: 201 }], next: 0 };
  const sockets = new Set<Socket>();
  let connections = 0;
  let inFlight = 0;
  let peakInFlight = 0;

  const nextReply = (path: string): ScriptedReply => {
    const script = scripts.get(path) ?? fallback;
    const reply = script.replies[Math.min(script.next, script.replies.length - 1)];
    script.next++;
    return reply;
  };

  const server = http.createServer((request, response) => {
    inFlight++;
    peakInFlight = Math.max(peakInFlight, inFlight);
    let open = true;
    const done = (): void => {
      if (open) inFlight--;
      open = false;
    };
    response.on('close', done);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = (request.url ?? '/').split('?')[0];
      received.push({ method: request.method ?? '', path, headers: request.headers, body: Buffer.concat(chunks), at: Date.now() });
      const reply = nextReply(path);
      if (reply === 'hang') return; // never answers; the socket is destroyed at close()
      if (reply === 'reset') {
        request.socket.destroy();
        return;
      }
      const answer = () => {
        response.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
        response.end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    received,
    get connections() {
      return connections;
    },
    get peakInFlight() {
      return peakInFlight;
    },
    script(path, replies) {
      scripts.set(path, { replies: [...replies], next: 0 });
    },
    scriptDefault(replies) {
      fallback = { replies: [...replies], next: 0 };
    },
    browser(path) {
      return createBrowser(url, path, received);
    },
    async waitFor(ready, timeoutMs = 10_000, what = 'condition') {
      const deadline = Date.now() + timeoutMs;
      while (!ready()) {
        if (Date.now() > deadline) throw new Error(`push receiver: timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function createBrowser(baseUrl: string, path: string, received: readonly ReceivedPush[] = []): BrowserSubscription {
  const ecdh: ECDH = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return {
    endpoint: `${baseUrl}${path}`,
    path,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
    decrypt: (push) => decryptPush(push, ecdh, auth),
    received: () => received.filter((push) => push.path === path),
  };
}

/** The browser side of RFC 8291 (aes128gcm) and draft-04 (aesgcm), done by http_ece, not by our code. */
export function decryptPush(push: Pick<ReceivedPush, 'headers' | 'body'>, ecdh: ECDH, auth: Buffer): string {
  const encoding = push.headers['content-encoding'];
  if (encoding === 'aes128gcm') {
    return ece.decrypt(push.body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth }).toString('utf8');
  }
  if (encoding === 'aesgcm') {
    const salt = /salt=([A-Za-z0-9_-]+)/.exec(String(push.headers.encryption))?.[1];
    const dh = /dh=([A-Za-z0-9_-]+)/.exec(String(push.headers['crypto-key']))?.[1];
    if (!salt || !dh) throw new Error('aesgcm push without Encryption salt or Crypto-Key dh');
    return ece.decrypt(push.body, { version: 'aesgcm', privateKey: ecdh, authSecret: auth, dh, salt }).toString('utf8');
  }
  throw new Error(`unknown Content-Encoding ${String(encoding)}`);
}

/** The claims of a VAPID JWT from either Authorization form. */
export function vapidOf(headers: IncomingHttpHeaders): { token: string; key: string | undefined; claims: { aud: string; exp: number; sub: string }; header: unknown } {
  const authorization = String(headers.authorization);
  let token: string;
  let key: string | undefined;
  const standard = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization);
  if (standard) {
    token = standard[1];
    key = standard[2];
  } else {
    token = /^WebPush (\S+)$/.exec(authorization)?.[1] ?? '';
    key = /p256ecdsa=([A-Za-z0-9_-]+)/.exec(String(headers['crypto-key']))?.[1];
  }
  const [header, payload] = token.split('.');
  return {
    token,
    key,
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  };
}
