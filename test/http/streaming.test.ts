import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestApp, ENGINES, type TestApp } from '../support/test-app.js';

/** Resolves with the first message a stream delivers that passes `accept`. */
function nextMessage<T>(subscribe: (push: (m: T) => void) => void, accept: (m: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message within 5 s')), 5000);
    subscribe((m) => {
      if (accept(m)) {
        clearTimeout(timer);
        resolve(m);
      }
    });
  });
}

describe.each(ENGINES)('streaming on %s', (engine) => {
  let t: TestApp;
  let base: string;
  let token: string;

  beforeEach(async () => {
    t = await createTestApp(engine);
    await t.account('1');
    await t.account('2');
    token = await t.token('1', 'read');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterEach(() => t.close());

  it('pushes notifications over server-sent events, not filtered ones, not other accounts’', async () => {
    const req = http.get(`http://${base}/api/v1/streaming/user/notification`, { headers: { authorization: `Bearer ${token}` } });
    const response = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const got = nextMessage<string>(
      (push) => response.on('data', (c: Buffer) => push(c.toString())),
      (c) => c.includes('event: notification'),
    );
    await t.notify({ account_id: '2', type: 'follow', from_account_id: '1' });
    // A private mention from a stranger is filtered by the default policy: stored, never streamed.
    await t.status('20', { author: '2', visibility: 'direct' });
    const filtered = await t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '20' });
    expect(filtered.filtered).toBe(true);
    const created = await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    const chunk = await got;
    const data = chunk.split('\n').find((l) => l.startsWith('data: '))!.slice(6);
    expect(JSON.parse(data)).toMatchObject({ id: created.id, type: 'follow', account: { id: '2' } });
    req.destroy();
  });

  it('answers 401 without a token and 403 with a token lacking read', async () => {
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve) =>
        http.get(`http://${base}/api/v1/streaming/user`, { headers }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        }),
      );
    expect(await status({})).toBe(401);
    const pushOnly = await t.token('1', 'push');
    expect(await status({ authorization: `Bearer ${pushOnly}` })).toBe(403);
  });

  it('delivers over WebSocket after a subscribe message, with the token as subprotocol', async () => {
    const ws = new WebSocket(`ws://${base}/api/v1/streaming`, token);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.send(JSON.stringify({ type: 'subscribe', stream: 'user:notification' }));
    // The subscription is registered when the server has read the message: a ping round trip orders it.
    await new Promise((resolve) => {
      ws.once('pong', resolve);
      ws.ping();
    });
    const message = nextMessage<any>((push) => ws.on('message', (d) => push(JSON.parse(String(d)))));
    const created = await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    const m = await message;
    expect(m.stream).toEqual(['user:notification']);
    expect(m.event).toBe('notification');
    expect(JSON.parse(m.payload)).toMatchObject({ id: created.id, type: 'follow' });
    ws.close();
  });
});
