// SPEC §15's edges, over raw sockets where HTTP clients hide the behaviour: slow clients cut off in time while
// /healthz still answers, every size limit answered in §1.2's form, OPTIONS without preflight headers,
// authentication before anything else is judged, multipart files refused.
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/build-app.js';
import { DEFAULT_TIMEOUTS } from '../../src/http/server-limits.js';
import { createLocalBus } from '../../src/services/notification-bus.js';
import { openStore } from '../../src/store/open-store.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { ADMIN_TOKEN, createTestStore, PUBLIC_URL, VAPID_PUBLIC_KEY, type TestStore } from '../support/test-app.js';
import type { FastifyInstance } from 'fastify';

interface RawAnswer {
  status: number;
  headers: string;
  body: string;
  /** The server closed the connection. */
  closed: boolean;
  /** When the server closed it (ms after the request began). */
  afterMs: number;
}

describe('edges', () => {
  let store: TestStore;
  let app: FastifyInstance;
  let port: number;
  let token: string;

  beforeEach(async () => {
    store = await createTestStore('sqlite');
    app = await buildApp({
      config: loadConfig({ HERALD_PUBLIC_URL: PUBLIC_URL, HERALD_DATA_DIR: os.tmpdir() }),
      store: store.store,
      bus: createLocalBus(),
      now: Date.now,
      adminToken: ADMIN_TOKEN,
      vapidPublicKey: VAPID_PUBLIC_KEY,
      rateLimits: null,
      // Short enough for a test; the defaults are SPEC §15's (checked below).
      httpTimeouts: { headersMs: 1_000, requestMs: 2_000, keepAliveMs: 65_000 },
    });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    await app.inject({ method: 'PUT', url: '/api/admin/v1/accounts/1', headers: admin, payload: { username: 'a', acct: 'a' } });
    token = (await app.inject({ method: 'POST', url: '/api/admin/v1/tokens', headers: admin, payload: { account_id: '1', scopes: 'read write' } })).json()
      .access_token;
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  /** Writes `chunks` (with pauses) on a fresh connection and collects the answer until the server closes. */
  function raw(chunks: (string | number)[], waitMs = 5000): Promise<RawAnswer> {
    return new Promise((resolve) => {
      const started = Date.now();
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      let done = false;
      const finish = (closed: boolean) => {
        if (done) return;
        done = true;
        const [head, ...rest] = text.split('\r\n\r\n');
        resolve({ status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: rest.join('\r\n\r\n'), closed, afterMs: Date.now() - started });
        socket.destroy();
      };
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => (text += chunk));
      socket.on('close', () => finish(true));
      socket.on('error', () => finish(true));
      setTimeout(() => finish(false), waitMs);
      socket.on('connect', async () => {
        for (const chunk of chunks) {
          if (typeof chunk === 'number') await new Promise((r) => setTimeout(r, chunk));
          else if (!socket.destroyed) socket.write(chunk);
        }
      });
    });
  }
  const expectJsonError = (answer: RawAnswer, status: number) => {
    expect(answer.status).toBe(status);
    expect(answer.headers).toContain('content-type: application/json; charset=utf-8');
    expect(JSON.parse(answer.body)).toEqual({ error: expect.any(String) });
  };

  it('keeps SPEC §15 timeouts by default', () => {
    expect(DEFAULT_TIMEOUTS).toEqual({ headersMs: 10_000, requestMs: 30_000, keepAliveMs: 65_000 });
  });

  it('cuts off a client trickling its headers, with a 408 in §1.2’s form', async () => {
    const trickle = ['GET /healthz HTTP/1.1\r\n', ...Array.from({ length: 20 }, (_, i) => [200, `X-Slow-${i}: 1\r\n`]).flat()];
    const answer = await raw(trickle, 6000);
    expect(answer.closed).toBe(true);
    expect(answer.afterMs).toBeLessThan(4000);
    expectJsonError(answer, 408);
  });

  it('cuts off a client withholding its body after the headers', async () => {
    const answer = await raw(
      [`POST /api/admin/v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`],
      6000,
    );
    expect(answer.closed).toBe(true);
    expect(answer.afterMs).toBeLessThan(5000);
    expectJsonError(answer, 408);
  });

  it('answers /healthz while 300 slow clients hold connections', async () => {
    const sockets = await Promise.all(
      Array.from({ length: 300 }, () => new Promise<net.Socket>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.write('GET /healthz HTTP/1.1\r\nX-Slow: ');
          resolve(socket);
        });
        socket.on('error', () => {});
      })),
    );
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    for (const socket of sockets) socket.destroy();
  });

  it('answers every size limit in §1.2’s form', async () => {
    const auth = `Authorization: Bearer ${token}\r\n`;
    // Client API body over 64 KiB: refused from its Content-Length, before a byte of it is read.
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 95_000 }, (_, i) => [`k${i}`, 1])));
    const client = await raw([`POST /api/v1/markers HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`]);
    expectJsonError(client, 413);
    expect(client.closed).toBe(true);
    // The admin API takes up to 1 MiB.
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
    const admin = await raw([`PUT /api/admin/v1/accounts/9 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n`]);
    expectJsonError(admin, 413);
    // A URL over 8 KiB, and headers over Node's 16 KiB.
    expectJsonError(await raw([`GET /api/v1/notifications?x=${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`]), 414);
    const headers = await raw([`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]);
    expectJsonError(headers, 431);
    expect(headers.closed).toBe(true);
    // A request Node cannot parse at all.
    expectJsonError(await raw(['NONSENSE\r\n\r\n']), 400);
  });

  it('refuses more than 1,000 parameters with 400, and takes 1,000', async () => {
    const form = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=1`).join('&');
    const post = (n: number) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/notifications/dismiss',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `${form(n)}&id=999`,
      });
    const over = await post(1000);
    expect(over.statusCode).toBe(400);
    expect(over.json()).toEqual({ error: 'Too many parameters' });
    expect((await post(999)).statusCode).toBe(404);
    const query = await app.inject({ method: 'GET', url: `/api/v1/notifications?${form(1001)}`, headers: { authorization: `Bearer ${token}` } });
    expect(query.statusCode).toBe(400);
  });

  it('answers OPTIONS on any path with 204 and the CORS headers, with or without preflight headers', async () => {
    for (const headers of [{}, { origin: 'https://app.example', 'access-control-request-method': 'POST' }]) {
      for (const url of ['/api/v1/notifications', '/nowhere']) {
        const res = await app.inject({ method: 'OPTIONS', url, headers });
        expect(res.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(204);
        expect(res.headers['access-control-allow-origin']).toBe('*');
      }
    }
  });

  it('authenticates first: a bad token is a 401 whatever else is wrong with the request', async () => {
    for (const url of ['/api/v1/notifications?max_id=zz', '/api/v1/notifications?x=%00', '/api/v1/notifications/%ZZ', '/api/v2/notifications?expand_accounts=x']) {
      const res = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer bogus' } });
      expect(res.statusCode, url).toBe(401);
      expect(res.json()).toEqual({ error: 'The access token is invalid' });
    }
    const body = await app.inject({
      method: 'POST',
      url: '/api/v1/markers',
      headers: { authorization: 'Bearer bogus', 'content-type': 'application/json' },
      payload: '{"broken": ',
    });
    expect(body.statusCode).toBe(401);
  });

  it('refuses multipart file parts with 422, not 413', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/notifications/dismiss',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=b' },
      payload: '--b\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n',
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ error: 'Validation failed: file uploads are not accepted' });
  });

  it('closes the connection when it answers before reading the body', async () => {
    const answer = await raw([`POST /api/v1/markers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bogus\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n`]);
    expectJsonError(answer, 401);
    expect(answer.headers).toContain('connection: close');
    expect(answer.closed).toBe(true);
  });
});

describe('the data directory', () => {
  it('is created 0700 with its files 0600, and tightened when it was not', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-modes-'));
    const dir = path.join(parent, 'data');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    fs.writeFileSync(path.join(dir, 'stray'), 'x', { mode: 0o644 });
    const store = openStore({ dataDir: dir });
    try {
      await migrateToLatest(store.db, store.dialect);
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      for (const name of fs.readdirSync(dir)) expect({ name, mode: fs.statSync(path.join(dir, name)).mode & 0o777 }).toEqual({ name, mode: 0o600 });
      expect(fs.readdirSync(dir)).toContain('herald.sqlite');
    } finally {
      await store.close();
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
