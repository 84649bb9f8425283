// SPEC §13 and §15: no token reaches the logs, however the client sent it: the Authorization header, the
// streaming `access_token` query parameter, or the WebSocket subprotocol.
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/build-app.js';
import { redactUrl } from '../../src/http/log-redaction.js';
import { createLocalBus } from '../../src/services/notification-bus.js';
import type { FastifyInstance } from 'fastify';
import { ADMIN_TOKEN, createTestStore, PUBLIC_URL, VAPID_PUBLIC_KEY, type TestStore } from '../support/test-app.js';

describe('redactUrl', () => {
  it.each([
    ['/api/v1/streaming?access_token=abc&stream=user', '/api/v1/streaming?access_token=[REDACTED]&stream=user'],
    ['/api/v1/streaming/user?stream=user&ACCESS_TOKEN=abc#x', '/api/v1/streaming/user?stream=user&ACCESS_TOKEN=[REDACTED]#x'],
    ['/x?token=abc', '/x?token=[REDACTED]'],
    ['/api/v1/notifications?limit=5', '/api/v1/notifications?limit=5'],
    ['/x?my_access_token=abc', '/x?my_access_token=abc'],
  ])('%s', (url, expected) => expect(redactUrl(url)).toBe(expected));
});

describe('request logs', () => {
  let store: TestStore;
  let app: FastifyInstance;
  afterEach(async () => {
    await app?.close();
    await store?.close();
  });

  it('hold no token after listing, streaming with ?access_token= and a WebSocket with the token as subprotocol', async () => {
    store = await createTestStore('sqlite');
    let logged = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logged += String(chunk);
        done();
      },
    });
    app = await buildApp({
      config: loadConfig({ HERALD_PUBLIC_URL: PUBLIC_URL, HERALD_DATA_DIR: os.tmpdir() }),
      store: store.store,
      bus: createLocalBus(),
      now: Date.now,
      adminToken: ADMIN_TOKEN,
      vapidPublicKey: VAPID_PUBLIC_KEY,
      rateLimits: null,
      logger: { level: 'trace', stream },
    });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    await app.inject({ method: 'PUT', url: '/api/admin/v1/accounts/1', headers: admin, payload: { username: 'a', acct: 'a' } });
    const token = (await app.inject({ method: 'POST', url: '/api/admin/v1/tokens', headers: admin, payload: { account_id: '1', scopes: 'read' } })).json()
      .access_token as string;
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    expect((await fetch(`http://${base}/api/v1/notifications`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    await new Promise<void>((resolve) => {
      const req = http.get(`http://${base}/api/v1/streaming/user?access_token=${token}`, (res) => {
        expect(res.statusCode).toBe(200);
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`ws://${base}/api/v1/streaming?stream=user`, token);
      ws.on('open', () => {
        ws.close();
        resolve();
      });
      ws.on('error', reject);
    });
    const refused = await fetch(`http://${base}/api/v1/streaming/user?access_token=wrong-${token}`);
    expect(refused.status).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(logged).toContain('/api/v1/streaming/user?access_token=[REDACTED]');
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(ADMIN_TOKEN);
  });
});
