// Streaming as Mastodon's streaming server behaves (SPEC §9), point by point, over real sockets on both
// engines: raw WebSocket and SSE clients, masto.js's streaming client (token as subprotocol and as query)
// and megalodon's userStreaming().
import http from 'node:http';
import net from 'node:net';
import { createStreamingAPIClient, type mastodon } from 'masto';
import megalodon, { type MegalodonInterface } from 'megalodon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../support/free-port.js';
import { createTestApp, ENGINES, type TestApp } from '../support/test-app.js';
import { openSse, within } from '../support/stream-clients.js';

// megalodon is CommonJS with `exports.default`: Node's ESM sees the generator as a property of the default
// import, vitest's interop as the import itself.
const createMegalodon = ((megalodon as unknown as { default?: unknown }).default ?? megalodon) as (
  sns: 'mastodon',
  url: string,
  token: string,
) => MegalodonInterface;

/** A WebSocket and every message it received, parsed. */
interface Socket {
  readonly ws: WebSocket;
  readonly messages: any[];
  send(message: object): Promise<void>;
  /** Resolves once a message passing `accept` has arrived. */
  next(accept?: (m: any) => boolean): Promise<any>;
}

describe.each(ENGINES)('streaming on %s', (engine) => {
  let t: TestApp;
  let base: string;
  let port: number;

  beforeEach(async () => {
    port = await freePort();
    base = `127.0.0.1:${port}`;
    // Clients find the streaming URL in the instance: it must be where the test listens.
    t = await createTestApp(engine, { env: { HERALD_PUBLIC_URL: `http://${base}` } });
    t.clock.now = Date.now();
    for (const id of ['1', '2', '3']) await t.account(id);
    await t.app.listen({ port, host: '127.0.0.1' });
  });
  afterEach(() => t.close());

  async function connect(path: string, options: { protocol?: string; headers?: Record<string, string> } = {}): Promise<Socket> {
    const ws = new WebSocket(`ws://${base}${path}`, options.protocol ?? [], { headers: options.headers });
    const messages: any[] = [];
    const waiters: { accept: (m: any) => boolean; resolve: (m: any) => void }[] = [];
    ws.on('message', (data) => {
      const message = JSON.parse(String(data));
      messages.push(message);
      for (const w of [...waiters]) if (w.accept(message)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(message);
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return {
      ws,
      messages,
      // The server has read a message once a ping sent after it is answered.
      async send(message) {
        ws.send(JSON.stringify(message));
        await new Promise((resolve) => {
          ws.once('pong', resolve);
          ws.ping();
        });
      },
      next(accept = () => true) {
        const found = messages.find(accept);
        if (found) return Promise.resolve(found);
        return within(new Promise((resolve) => waiters.push({ accept, resolve })), 5000, 'a message');
      },
    };
  }
  /** Status code and body of a refused upgrade, and whether the server closed the socket after it. */
  function rawUpgrade(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; closed: boolean }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => (text += chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve({ status: Number(text.split(' ')[1]), body: text.split('\r\n\r\n')[1] ?? '', closed: true }));
      setTimeout(() => resolve({ status: Number(text.split(' ')[1]), body: text.split('\r\n\r\n')[1] ?? '', closed: false }), 2000);
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${base}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
    });
  }
  const follow = (from: string, to = '1') => t.notify({ account_id: to, type: 'follow', from_account_id: from });

  it('takes the token from the header, the query or the subprotocol, and echoes the subprotocol', async () => {
    const token = await t.token('1', 'read');
    const viaProtocol = await connect('/api/v1/streaming?stream=user:notification', { protocol: token });
    expect(viaProtocol.ws.protocol).toBe(token);
    const viaQuery = await connect(`/api/v1/streaming?stream=user:notification&access_token=${token}`);
    const viaHeader = await connect('/api/v1/streaming/?stream=user:notification', { headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const created = await follow('2');
    for (const socket of [viaProtocol, viaQuery, viaHeader]) {
      const m = await socket.next((x) => x.event === 'notification');
      // Keys in Mastodon's order, the payload what GET /api/v1/notifications/:id answers.
      expect(Object.keys(m)).toEqual(['stream', 'event', 'payload']);
      expect(m.stream).toEqual(['user:notification']);
      expect(m.payload).toBe((await t.client(token, 'GET', `/api/v1/notifications/${created.id}`)).body);
      socket.ws.close();
    }
  });

  it('refuses a missing, unknown or revoked token before the upgrade with 401 and closes the socket', async () => {
    const token = await t.token('1', 'read');
    await t.admin('POST', '/tokens/revoke', { access_token: token });
    for (const [path, headers] of [
      ['/api/v1/streaming?stream=user', {}],
      ['/api/v1/streaming?stream=user&access_token=nonsense', {}],
      ['/api/v1/streaming/', { 'sec-websocket-protocol': token }],
    ] as const) {
      const answer = await rawUpgrade(path, headers);
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toEqual({ error: 'The access token is invalid' });
      expect(answer.closed).toBe(true);
    }
  });

  it('answers an upgrade to any other path with 404 and closes the socket', async () => {
    const token = await t.token('1', 'read');
    for (const path of ['/api/v1/streaming/nowhere', '/api/v1/notifications', '/elsewhere']) {
      const answer = await rawUpgrade(path, { authorization: `Bearer ${token}` });
      expect(answer.status, path).toBe(404);
      expect(answer.closed).toBe(true);
    }
  });

  it('upgrades a valid token whatever its scopes and refuses the subscription with a message', async () => {
    const pushOnly = await t.token('1', 'push');
    const socket = await connect('/api/v1/streaming', { protocol: pushOnly });
    await socket.send({ type: 'subscribe', stream: 'user:notification' });
    await socket.send({ type: 'subscribe', stream: 'user' });
    expect(socket.messages).toEqual([
      { error: 'Access token does not have the required scopes', status: 401 },
      { error: 'Access token does not have the required scopes', status: 401 },
    ]);
    await follow('2');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(socket.messages).toHaveLength(2);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    socket.ws.close();
  });

  it('sends notification events to a user stream only for a token that may read notifications', async () => {
    const statusesOnly = await t.token('1', 'read:statuses');
    const reader = await t.token('1', 'read:notifications');
    const quiet = await connect('/api/v1/streaming?stream=user', { protocol: statusesOnly });
    const loud = await connect('/api/v1/streaming?stream=user', { protocol: reader });
    await quiet.send({ type: 'subscribe', stream: 'user:notification' });
    await follow('2');
    const m = await loud.next();
    expect(m).toMatchObject({ stream: ['user'], event: 'notification' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(quiet.messages).toEqual([{ error: 'Access token does not have the required scopes', status: 401 }]);
    quiet.ws.close();
    loud.ws.close();
  });

  it('ignores a second subscribe, unsubscribes one stream only, and names an unknown stream', async () => {
    const token = await t.token('1', 'read');
    const socket = await connect('/api/v1/streaming', { protocol: token });
    await socket.send({ type: 'subscribe', stream: 'user:notification' });
    await socket.send({ type: 'subscribe', stream: 'user:notification' });
    await socket.send({ type: 'subscribe', stream: 'user' });
    await socket.send({ type: 'subscribe', stream: 'public' });
    expect(socket.messages).toEqual([{ error: 'Unknown stream type', status: 400 }]);
    const first = await follow('2');
    await socket.next((m) => m.stream?.[0] === 'user');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(socket.messages.filter((m) => m.event).map((m) => m.stream[0]).sort()).toEqual(['user', 'user:notification']);
    await socket.send({ type: 'unsubscribe', stream: 'user' });
    const second = await follow('3');
    await socket.next((m) => m.event && JSON.parse(m.payload).id === second.id);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const events = socket.messages.filter((m) => m.event).map((m) => [m.stream[0], JSON.parse(m.payload).id]);
    expect(events.filter(([, id]) => id === second.id)).toEqual([['user:notification', second.id]]);
    expect(events.filter(([, id]) => id === first.id)).toHaveLength(2);
    socket.ws.close();
  });

  it('tells every stream of the recipient notifications_merged after an accepted request, over WebSocket and SSE', async () => {
    const token = await t.token('1', 'read write');
    const socket = await connect('/api/v1/streaming?stream=user:notification', { protocol: token });
    const sse = await openSseRaw(`http://${base}/api/v1/streaming/user`, token);
    // A private mention from a stranger is filtered into a request (default policy), and never streamed.
    await t.status('20', { author: '2', visibility: 'direct' });
    expect((await t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '20' })).filtered).toBe(true);
    const [request] = (await t.client(token, 'GET', '/api/v1/notifications/requests')).json();
    expect((await t.client(token, 'POST', `/api/v1/notifications/requests/${request.id}/accept`)).statusCode).toBe(200);
    expect(await socket.next()).toEqual({ stream: ['user:notification'], event: 'notifications_merged', payload: '1' });
    await within(
      (async () => {
        while (!sse.text().includes('event: notifications_merged\ndata: 1\n\n')) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      'notifications_merged over SSE',
    );
    expect(sse.text()).not.toContain('event: notification\n');
    expect(socket.messages).toHaveLength(1);
    socket.ws.close();
    sse.end();
  });

  it('streams server-sent events: the :) comment first, 401 and 403 before the stream starts', async () => {
    const token = await t.token('1', 'read');
    const sse = await openSseRaw(`http://${base}/api/v1/streaming/user/notification?access_token=${token}`);
    const created = await follow('2');
    await within(
      (async () => {
        while (!sse.text().includes('event: notification')) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      'an SSE event',
    );
    expect(sse.text().startsWith(':)\n\n')).toBe(true);
    const data = sse.text().split('\n').find((l) => l.startsWith('data: '))!.slice(6);
    expect(JSON.parse(data)).toMatchObject({ id: created.id, type: 'follow' });
    sse.end();
    expect(await statusOf(`http://${base}/api/v1/streaming/user`, {})).toBe(401);
    expect(await statusOf(`http://${base}/api/v1/streaming/user`, { authorization: `Bearer ${await t.token('1', 'push')}` })).toBe(403);
    expect(await statusOf(`http://${base}/api/v1/streaming/user/notification`, { authorization: `Bearer ${await t.token('1', 'read:statuses')}` })).toBe(403);
  });

  it('answers /api/v1/streaming/health with OK as text', async () => {
    const res = await fetch(`http://${base}/api/v1/streaming/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('OK');
  });

  it('gives 50 clients of 50 accounts exactly their own events', { timeout: 60_000 }, async () => {
    const sockets: { account: string; socket: Socket }[] = [];
    for (let i = 0; i < 50; i++) {
      const account = `u${i}`;
      await t.account(account);
      sockets.push({ account, socket: await connect('/api/v1/streaming?stream=user:notification', { protocol: await t.token(account, 'read') }) });
    }
    const expected = new Map<string, string[]>();
    for (const { account } of sockets) {
      const ids = [(await follow('2', account)).id, (await follow('3', account)).id];
      expected.set(account, ids);
    }
    for (const { account, socket } of sockets) {
      await within(
        (async () => {
          while (socket.messages.length < 2) await new Promise((r) => setTimeout(r, 20));
        })(),
        // Generous: a busy CI machine fans 100 events out to 50 sockets.
        15_000,
        `events of ${account}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const { account, socket } of sockets) {
      expect(socket.messages.map((m) => JSON.parse(m.payload).id)).toEqual(expected.get(account));
      for (const m of socket.messages) expect(JSON.parse(m.payload).account.id).not.toBe(account);
      socket.ws.close();
    }
  });

  it('closes every stream when the server shuts down: WebSocket with 1001, SSE ended', async () => {
    const token = await t.token('1', 'read');
    const socket = await connect('/api/v1/streaming?stream=user', { protocol: token });
    const code = new Promise<number>((resolve) => socket.ws.on('close', (c) => resolve(c)));
    const sse = await openSse(`http://${base}`, token);
    await within(t.app.close(), 5000, 'the server closed');
    expect(await within(code, 1000, 'WebSocket closed')).toBe(1001);
    await within(sse.closed, 1000, 'SSE ended');
  });

  for (const useInsecureAccessToken of [false, true]) {
    it(`masto.js createStreamingAPIClient receives notifications (token ${useInsecureAccessToken ? 'in the query' : 'as subprotocol'})`, async () => {
      const accessToken = await t.token('1', 'read');
      const instance = (await t.client(accessToken, 'GET', '/api/v2/instance')).json();
      const client = createStreamingAPIClient({
        streamingApiUrl: instance.configuration.urls.streaming,
        accessToken,
        useInsecureAccessToken,
        implementation: WebSocket,
        retry: false,
      });
      const received: string[] = [];
      const subscription = client.user.notification.subscribe();
      const reading = (async () => {
        for await (const event of subscription) if (event.event === 'notification') received.push((event.payload as mastodon.v1.Notification).id);
      })().catch(() => {});
      await client.prepare();
      await new Promise((resolve) => setTimeout(resolve, 200));
      const created = await follow('2');
      await within(
        (async () => {
          while (received.length === 0) await new Promise((r) => setTimeout(r, 20));
        })(),
        5000,
        'a notification through masto.js',
      );
      expect(received).toEqual([created.id]);
      client.close();
      await reading;
    });
  }

  it("megalodon's userStreaming() receives notifications", async () => {
    const accessToken = await t.token('1', 'read');
    const client = createMegalodon('mastodon', `http://${base}`, accessToken);
    const stream = await client.userStreaming();
    const received: string[] = [];
    stream.on('notification', (n: { id: string }) => received.push(n.id));
    await within(new Promise((resolve) => stream.on('connect', resolve)), 5000, 'megalodon connected');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const created = await follow('2');
    await within(
      (async () => {
        while (received.length === 0) await new Promise((r) => setTimeout(r, 20));
      })(),
      5000,
      'a notification through megalodon',
    );
    expect(received).toEqual([created.id]);
    stream.stop();
  });
});

/** An SSE response collected as text. */
function openSseRaw(url: string, token?: string): Promise<{ text(): string; end(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE answered ${res.statusCode}`));
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      resolve({ text: () => text, end: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) =>
    http.get(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }),
  );
}
