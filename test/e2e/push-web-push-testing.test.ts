// Deliveries accepted by an independent push service: the `web-push-testing` package checks the VAPID
// JWT against the application server key the subscription was made with, checks the headers, and
// decrypts with its own copy of http_ece. Both encodings, on both engines.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { generateVapidKeys } from '../../src/push/keys.js';
import { createPushBed, type PushBed } from '../support/push-bed.js';
import { ENGINES } from '../support/test-app.js';

const require = createRequire(import.meta.url);

interface PushService {
  url: string;
  subscribe(applicationServerKey: string): Promise<{ endpoint: string; keys: { p256dh: string; auth: string }; clientHash: string }>;
  messages(clientHash: string): Promise<string[]>;
  expire(clientHash: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts web-push-testing in this process on 127.0.0.1. Its own startServer() listens on every
 * interface, so its Express app is mounted on a server of ours instead.
 */
async function startWebPushTesting(): Promise<PushService> {
  const WebPushTestingServer = require('web-push-testing/src/server.js');
  const { PushApiModel } = require('web-push-testing/src/PushApiModel.js');
  const model = new PushApiModel();
  const service = new WebPushTestingServer(model, 0);
  service.setRequestHandlers();
  const server = http.createServer(service._app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  model.notifyUrl = `${url}/notify/`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`web-push-testing ${path}: ${res.status} ${text}`);
    return text === '' || text === 'OK' ? {} : JSON.parse(text);
  };
  return {
    url,
    async subscribe(applicationServerKey) {
      return (await post('/subscribe', { applicationServerKey, userVisibleOnly: 'true' })).data;
    },
    async messages(clientHash) {
      return (await post('/get-notifications', { clientHash })).data.messages;
    },
    async expire(clientHash) {
      await post(`/expire-subscription/${clientHash}`, {});
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each(ENGINES)('deliveries to web-push-testing on %s', (engine) => {
  let bed: PushBed;
  let service: PushService;
  beforeEach(async () => {
    bed = await createPushBed(engine);
    service = await startWebPushTesting();
  });
  afterEach(async () => {
    await service.close();
    await bed.close();
  });

  async function subscribe(standard: boolean, serverKey = bed.vapidKeys.publicKey) {
    const subscription = await service.subscribe(serverKey);
    const token = await bed.t.token('1', 'push');
    const res = await bed.t.client(token, 'POST', '/api/v1/push/subscription', {
      subscription: { endpoint: subscription.endpoint, keys: subscription.keys, standard },
      data: { alerts: { mention: true, follow: true } },
    });
    expect(res.statusCode).toBe(200);
    return { ...subscription, token };
  }

  it.each([true, false])('is accepted and decrypted with standard: %s', async (standard) => {
    const browser = await subscribe(standard);
    const notification = await bed.t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '10' });
    await bed.t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    const results = await bed.drain();
    expect(results.map((r) => (r.kind === 'sent' ? `${r.action} ${r.outcome.status}` : r.kind))).toEqual(['delivered 201', 'delivered 201']);
    const messages = (await service.messages(browser.clientHash))
      .map((m) => JSON.parse(m))
      .sort((a, b) => a.notification_id - b.notification_id);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toEqual({
      access_token: browser.token,
      preferred_locale: 'en',
      notification_id: Number(notification.id),
      notification_type: 'mention',
      icon: 'https://social.test/alice.png',
      title: 'You were mentioned by Alice',
      body: 'Hello world & all',
    });
    expect(messages[1]).toMatchObject({ notification_type: 'follow', title: 'Alice is now following you' });
  });

  it('drops a subscription the service has expired (410)', async () => {
    const browser = await subscribe(true);
    await service.expire(browser.clientHash);
    await bed.t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '10' });
    const [result] = await bed.drain();
    expect(result).toMatchObject({ kind: 'sent', action: 'gone', outcome: { status: 410 } });
    expect(await bed.t.store.db.selectFrom('push_subscriptions').selectAll().execute()).toEqual([]);
  });

  it.each([true, false])('is refused when the subscription was made for another server key (standard: %s)', async (standard) => {
    // The service checks our JWT against the key the browser subscribed with: a mismatch must fail.
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {}); // it logs the refusal
    onTestFinished(() => quiet.mockRestore());
    const browser = await subscribe(standard, generateVapidKeys().publicKey);
    await bed.t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '10' });
    const [result] = await bed.drain();
    expect(result).toMatchObject({ kind: 'sent', outcome: { status: 400 } });
    expect(await service.messages(browser.clientHash)).toEqual([]);
  });
});
