// Deliveries end to end inside one process, on both engines: a real sender against a scripted local push
// service, every push decrypted by the independent http_ece package, outcomes checked in the store.
import { verify } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { topicForGroupKey } from '../../src/push/build-push-request.js';
import { publicKeyFromPoint } from '../../src/push/keys.js';
import { PUSH_MAX_AGE_MS } from '../../src/queue/delivery-handler.js';
import { createPushBed, RETRY_BASE_MS, SUBJECT, type PushBed } from '../support/push-bed.js';
import { startPushReceiver, vapidOf } from '../support/push-receiver.js';
import { ENGINES, PUBLIC_URL } from '../support/test-app.js';

const HOUR = 3_600_000;

describe.each(ENGINES)('push delivery on %s', (engine) => {
  let bed: PushBed;
  beforeEach(async () => {
    bed = await createPushBed(engine, { sender: { requestTimeoutMs: 400, connectTimeoutMs: 400 } });
  });
  afterEach(() => bed.close());

  const mention = () => bed.t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '10' });
  const subscriptions = () => bed.t.store.db.selectFrom('push_subscriptions').select('id').orderBy('id').execute();

  it('delivers both encodings, decrypted by http_ece, with the payload and headers of SPEC §8.5–§8.6', async () => {
    const standard = await bed.subscribe('/push/standard', { standard: true });
    const legacy = await bed.subscribe('/push/legacy', { standard: false });
    const notification = await mention();
    const results = await bed.drain();
    expect(results.map((r) => r.kind === 'sent' && r.action)).toEqual(['delivered', 'delivered']);
    expect(await bed.deliveries()).toEqual([]);

    for (const [browser, encoding] of [[standard, 'aes128gcm'], [legacy, 'aesgcm']] as const) {
      const [push] = browser.received();
      const text = browser.decrypt(push);
      expect(JSON.parse(text)).toEqual({
        access_token: browser.token,
        preferred_locale: 'en',
        notification_id: Number(notification.id),
        notification_type: 'mention',
        icon: 'https://social.test/alice.png',
        title: 'You were mentioned by Alice',
        body: 'Hello world & all',
      });
      expect(Object.keys(JSON.parse(text))).toEqual(['access_token', 'preferred_locale', 'notification_id', 'notification_type', 'icon', 'title', 'body']);
      expect(push.method).toBe('POST');
      expect(push.headers).toMatchObject({
        'content-type': 'application/octet-stream',
        'content-encoding': encoding,
        ttl: '172800',
        urgency: 'normal',
      });
      expect(push.headers.topic).toBeUndefined();
      expect(push.headers['unsubscribe-url']).toMatch(new RegExp(`^${PUBLIC_URL}/api/v1/push/unsubscribe/\\d+\\.\\d+\\.[A-Za-z0-9_-]{43}$`));
      const vapid = vapidOf(push.headers);
      expect(vapid.key).toBe(bed.vapidKeys.publicKey);
      if (encoding === 'aes128gcm') expect(push.headers.authorization).toMatch(/^vapid t=[^,]+, k=[A-Za-z0-9_-]+$/);
      else expect(push.headers['crypto-key']).toMatch(/^dh=[A-Za-z0-9_-]+;p256ecdsa=[A-Za-z0-9_-]+$/);
    }
    // The Unsubscribe-URL a push service received works against the app, without a bearer token.
    const link = new URL(String(standard.received()[0].headers['unsubscribe-url']));
    const res = await bed.t.app.inject({ method: 'DELETE', url: link.pathname });
    expect(res.json()).toEqual({});
    expect((await subscriptions()).map((s) => s.id)).toEqual([legacy.id]);
  });

  it('signs one VAPID JWT per origin with the right claims, and reuses it across messages', async () => {
    const a = await bed.subscribe('/push/a');
    const b = await bed.subscribe('/push/b', { standard: false });
    const elsewhere = await startPushReceiver();
    try {
      const c = await bed.subscribe('/push/c', { base: elsewhere.url });
      await mention();
      await bed.t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
      await bed.drain();
      const pushes = [...a.received(), ...b.received()];
      expect(pushes).toHaveLength(4);
      const jwts = pushes.map((p) => vapidOf(p.headers));
      expect(new Set(jwts.map((j) => j.token)).size).toBe(1);
      const [jwt] = jwts;
      expect(jwt.header).toEqual({ typ: 'JWT', alg: 'ES256' });
      expect(jwt.claims.aud).toBe(bed.receiver.url);
      expect(jwt.claims.sub).toBe(SUBJECT);
      const nowSeconds = bed.t.clock.now / 1000;
      expect(jwt.claims.exp).toBeGreaterThan(nowSeconds + 3600);
      expect(jwt.claims.exp).toBeLessThanOrEqual(nowSeconds + 24 * 3600);
      const [header, payload, signature] = jwt.token.split('.');
      const key = publicKeyFromPoint(Buffer.from(bed.vapidKeys.publicKey, 'base64url'));
      expect(verify('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))).toBe(true);
      // Another origin gets a token of its own.
      const [pushElsewhere] = elsewhere.received.filter((p) => p.path === c.path);
      const other = vapidOf(pushElsewhere.headers);
      expect(other.claims.aud).toBe(elsewhere.url);
      expect(other.token).not.toBe(jwt.token);
    } finally {
      await elsewhere.close();
    }
  });

  it('gives grouped types a Topic derived from the group key, the same for the whole group', async () => {
    const browser = await bed.subscribe('/push/topic');
    await bed.t.account('3');
    const first = await bed.t.notify({ account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' });
    await bed.t.notify({ account_id: '1', type: 'favourite', from_account_id: '3', status_id: '10' });
    await bed.drain();
    const topics = browser.received().map((p) => p.headers.topic);
    expect(topics).toEqual([topicForGroupKey(first.group_key), topicForGroupKey(first.group_key)]);
    expect(String(topics[0])).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it.each([404, 410, 400])('deletes the subscription when the push service answers %i', async (status) => {
    const browser = await bed.subscribe('/push/dead');
    bed.receiver.script('/push/dead', [{ status }]);
    await mention();
    await bed.t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    const results = await bed.drain();
    expect(results.some((r) => r.kind === 'sent' && r.action === 'gone')).toBe(true);
    expect(await subscriptions()).toEqual([]);
    // Its other queued push went with it: at most the one in flight beside it was sent.
    expect(await bed.deliveries()).toEqual([]);
    expect(browser.received().length).toBeLessThanOrEqual(2);
  });

  it('retries 503 with backoff, encrypting afresh, and delivers', async () => {
    const browser = await bed.subscribe('/push/flaky');
    bed.receiver.script('/push/flaky', [{ status: 503 }, { status: 503 }, { status: 201 }]);
    await mention();
    const start = bed.t.clock.now;
    await bed.drain();
    let [row] = await bed.deliveries();
    expect(row).toMatchObject({ attempts: 1, lease_until: null, given_up_at: null });
    expect(row.last_status).toMatch(/^503/);
    // base × 2^0 with the test's jitter of 0 (random 0.5).
    expect(row.next_attempt_at).toBe(start + RETRY_BASE_MS);
    bed.t.clock.now += RETRY_BASE_MS;
    await bed.drain();
    [row] = await bed.deliveries();
    expect(row.next_attempt_at).toBe(bed.t.clock.now + 2 * RETRY_BASE_MS);
    bed.t.clock.now += 2 * RETRY_BASE_MS;
    await bed.drain();
    expect(await bed.deliveries()).toEqual([]);
    const pushes = browser.received();
    expect(pushes).toHaveLength(3);
    expect(new Set(pushes.map((p) => p.body.toString('hex'))).size).toBe(3);
    expect(new Set(pushes.map((p) => browser.decrypt(p))).size).toBe(1);
  });

  it('honours Retry-After on 429 when it asks for longer', async () => {
    const browser = await bed.subscribe('/push/busy');
    bed.receiver.script('/push/busy', [{ status: 429, headers: { 'retry-after': '120' } }, { status: 201 }]);
    await mention();
    await bed.drain();
    const [row] = await bed.deliveries();
    expect(row.next_attempt_at).toBe(bed.t.clock.now + 120_000);
    bed.t.clock.now += 119_000;
    expect(await bed.drain()).toEqual([]);
    bed.t.clock.now += 1000;
    await bed.drain();
    expect(browser.received()).toHaveLength(2);
    expect(await bed.deliveries()).toEqual([]);
  });

  it('gives up after 5 retries and keeps the row for inspection', async () => {
    const browser = await bed.subscribe('/push/down');
    bed.receiver.script('/push/down', [{ status: 503 }]);
    await mention();
    for (let i = 0; i < 10; i++) {
      await bed.drain();
      bed.t.clock.now += HOUR;
    }
    expect(browser.received()).toHaveLength(6);
    const [row] = await bed.deliveries();
    expect(row.given_up_at).not.toBeNull();
    expect(row.attempts).toBe(6);
    expect(row.last_status).toMatch(/^503: .*gave up after 5 retries/);
    expect(await subscriptions()).toHaveLength(1);
  });

  it('retries a request that hangs past the timeout, and a connection reset', async () => {
    const browser = await bed.subscribe('/push/odd');
    bed.receiver.script('/push/odd', ['hang', 'reset', { status: 201 }]);
    await mention();
    await bed.drain();
    let [row] = await bed.deliveries();
    expect(row.last_status).toMatch(/^network: /);
    bed.t.clock.now += HOUR;
    await bed.drain();
    [row] = await bed.deliveries();
    expect(row.attempts).toBe(2);
    expect(row.last_status).toMatch(/^network: /);
    bed.t.clock.now += HOUR;
    await bed.drain();
    expect(await bed.deliveries()).toEqual([]);
    expect(browser.received()).toHaveLength(3);
  });

  it('pauses an origin that refuses several subscriptions with 403, instead of deleting them all', async () => {
    const browsers = [];
    for (let i = 0; i < 5; i++) browsers.push(await bed.subscribe(`/push/vapid${i}`));
    bed.receiver.scriptDefault([{ status: 403 }]);
    await mention();
    const results = await bed.drain();
    const actions = results.map((r) => (r.kind === 'sent' ? r.action : r.kind));
    // The first refusals look like dead subscriptions; the third distinct one trips the breaker.
    expect(actions.filter((a) => a === 'gone')).toHaveLength(2);
    expect(actions.filter((a) => a === 'paused')).toHaveLength(3);
    expect(await subscriptions()).toHaveLength(3);
    const pausedUntil = bed.breaker.pausedUntil(bed.receiver.url, bed.t.clock.now);
    expect(pausedUntil).toBeGreaterThan(bed.t.clock.now);
    const rows = await bed.deliveries();
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.next_attempt_at === pausedUntil && r.attempts === 0 && /origin paused$/.test(String(r.last_status)))).toBe(true);
    expect(bed.logs.some((l) => l.level === 'error' && /VAPID/.test(l.message) && /paused/.test(l.message))).toBe(true);
    expect(await bed.registry.metrics()).toContain(`herald_push_origin_pauses_total{origin="${bed.receiver.url}"} 1`);

    // New pushes for the paused origin wait without sending.
    const sentBefore = bed.receiver.received.length;
    await bed.t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    expect((await bed.drain()).every((r) => r.kind === 'paused')).toBe(true);
    expect(bed.receiver.received.length).toBe(sentBefore);

    // The operator fixes the key; after the pause everything still subscribed is delivered.
    bed.receiver.scriptDefault([{ status: 201 }]);
    bed.t.clock.now = pausedUntil!;
    await bed.drain();
    expect(await bed.deliveries()).toEqual([]);
    expect(bed.receiver.received.length).toBe(sentBefore + 6);
  });

  it('deletes a subscription on an isolated 403', async () => {
    await bed.subscribe('/push/one');
    await bed.subscribe('/push/two');
    bed.receiver.script('/push/one', [{ status: 403 }]);
    await mention();
    await bed.drain();
    expect(await subscriptions()).toHaveLength(1);
    expect(bed.breaker.pausedUntil(bed.receiver.url, bed.t.clock.now)).toBeNull();
  });

  it('honours a subscription removed between queueing and sending', async () => {
    const browser = await bed.subscribe('/push/gone');
    await mention();
    const claimed = await bed.claim();
    expect(claimed).toHaveLength(1);
    await bed.t.client(browser.token, 'DELETE', '/api/v1/push/subscription');
    expect(await bed.handle(claimed[0])).toEqual({ kind: 'skipped', reason: 'subscription gone' });
    expect(bed.receiver.received).toEqual([]);
  });

  it('honours a subscription replaced by a new endpoint between queueing and sending', async () => {
    const browser = await bed.subscribe('/push/old');
    await mention();
    const claimed = await bed.claim();
    await bed.t.client(browser.token, 'POST', '/api/v1/push/subscription', {
      subscription: { endpoint: `${bed.receiver.url}/push/new`, keys: browser.keys },
      data: { alerts: { mention: true } },
    });
    expect((await bed.handle(claimed[0])).kind).toBe('skipped');
    expect(bed.receiver.received).toEqual([]);
  });

  it('re-checks alerts and policy at send time', async () => {
    const browser = await bed.subscribe('/push/changed');
    await mention();
    await bed.t.client(browser.token, 'PUT', '/api/v1/push/subscription', { data: { alerts: { follow: true } } });
    expect(await bed.drain()).toEqual([{ kind: 'skipped', reason: 'alert or policy now off' }]);

    await bed.t.client(browser.token, 'PUT', '/api/v1/push/subscription', { data: { alerts: { mention: true, follow: true } } });
    await bed.t.notify({ account_id: '1', type: 'follow', from_account_id: '2', relationship: { following: false } });
    await bed.t.client(browser.token, 'PUT', '/api/v1/push/subscription', { data: { alerts: { follow: true }, policy: 'followed' } });
    expect(await bed.drain()).toEqual([{ kind: 'skipped', reason: 'alert or policy now off' }]);
    expect(bed.receiver.received).toEqual([]);
  });

  it('sends to a followed-only subscription when the stored relationship allows it', async () => {
    const browser = await bed.subscribe('/push/followed', { policy: 'followed' });
    await bed.t.account('3');
    await bed.t.notify({ account_id: '1', type: 'follow', from_account_id: '2', relationship: { following: true } });
    await bed.t.notify({ account_id: '1', type: 'follow', from_account_id: '3', relationship: { followed_by: true } });
    await bed.drain();
    expect(browser.received().map((p) => JSON.parse(browser.decrypt(p)).title)).toEqual(['Alice is now following you']);
  });

  it('skips a notification dismissed, or an actor suspended, between queueing and sending', async () => {
    await bed.subscribe('/push/x');
    const n = await mention();
    const claimed = await bed.claim();
    const reader = await bed.t.token('1', 'read write');
    expect((await bed.t.client(reader, 'POST', `/api/v1/notifications/${n.id}/dismiss`)).statusCode).toBe(200);
    expect(await bed.handle(claimed[0])).toEqual({ kind: 'skipped', reason: 'notification gone' });

    await bed.t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    await bed.t.account('2', { display_name: 'Alice', suspended: true });
    expect(await bed.drain()).toEqual([{ kind: 'skipped', reason: 'actor removed or suspended' }]);
    expect(bed.receiver.received).toEqual([]);
  });

  it('sends nothing for a notification older than 48 hours, and stops retrying at that limit', async () => {
    await bed.subscribe('/push/late');
    await mention();
    bed.t.clock.now += PUSH_MAX_AGE_MS + 1;
    expect(await bed.drain()).toEqual([{ kind: 'skipped', reason: 'notification older than 48 hours' }]);
    expect(bed.receiver.received).toEqual([]);

    bed.receiver.script('/push/late', [{ status: 503 }]);
    await bed.t.status('11', { author: '1' });
    await bed.t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '11' });
    bed.t.clock.now += PUSH_MAX_AGE_MS - RETRY_BASE_MS / 2;
    await bed.drain();
    const [row] = await bed.deliveries();
    expect(row.given_up_at).not.toBeNull();
    expect(row.last_status).toMatch(/48-hour/);
  });

  it('counts outcomes per origin and status class, and encryption time', async () => {
    await bed.subscribe('/push/m1');
    const dead = await bed.subscribe('/push/m2');
    bed.receiver.script(dead.path, [{ status: 410 }]);
    await mention();
    await bed.drain();
    const text = await bed.registry.metrics();
    const origin = bed.receiver.url;
    expect(text).toContain(`herald_push_deliveries_total{origin="${origin}",outcome="delivered",status_class="2xx"} 1`);
    expect(text).toContain(`herald_push_deliveries_total{origin="${origin}",outcome="gone",status_class="4xx"} 1`);
    expect(text).toMatch(/herald_push_encryption_seconds_count 2/);
    expect(text).toMatch(new RegExp(`herald_push_send_seconds_count\\{origin="${origin}"\\} 2`));
  });

  it('gives up a row whose handling keeps failing unexpectedly, instead of claiming it forever', async () => {
    const browser = await bed.subscribe('/push/poison');
    await mention();
    // A stored endpoint that no longer parses makes every attempt throw before it can be classified.
    await bed.t.store.db.updateTable('push_subscriptions').set({ endpoint: 'not a url' }).where('id', '=', browser.id).execute();
    const worker = bed.worker({ leaseMs: 1, pollIntervalMs: 5, now: Date.now });
    worker.start();
    const deadline = Date.now() + 10_000;
    let row = (await bed.deliveries())[0];
    while (row.given_up_at === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      row = (await bed.deliveries())[0];
    }
    await worker.stop(1000);
    expect(row.given_up_at).not.toBeNull();
    expect(row.attempts).toBe(6);
    expect(row.last_status).toMatch(/^internal error: /);
    expect(bed.logs.filter((l) => l.level === 'error' && l.message === 'push delivery failed')).toHaveLength(6);
  });

  it('runs as a worker: woken by the bus, bounded in concurrency, finishing in-flight sends on stop', async () => {
    const browser = await bed.subscribe('/push/live');
    bed.receiver.script('/push/live', [{ status: 201, delayMs: 50 }]);
    // A poll far in the future: only the bus can have woken it.
    const worker = bed.worker({ concurrency: 3, pollIntervalMs: 60_000, now: Date.now });
    worker.start();
    await bed.t.account('3');
    for (let i = 0; i < 12; i++) {
      await bed.t.status(`s${i}`, { author: '1' });
      await bed.t.notify({ account_id: '1', type: 'mention', from_account_id: i % 2 ? '2' : '3', status_id: `s${i}` });
    }
    await bed.receiver.waitFor(() => browser.received().length === 12, 10_000, '12 pushes');
    expect(bed.receiver.peakInFlight).toBeLessThanOrEqual(3);
    expect(new Set(browser.received().map((p) => JSON.parse(browser.decrypt(p)).notification_id)).size).toBe(12);
    await bed.receiver.waitFor(() => worker.inFlight === 0, 5000, 'idle worker');
    expect(await bed.deliveries()).toEqual([]);

    // Stop while a send is in flight: it finishes and its row goes.
    bed.receiver.script('/push/live', [{ status: 201, delayMs: 300 }]);
    await mention();
    await bed.receiver.waitFor(() => browser.received().length === 13, 5000, 'the 13th push');
    await worker.stop(5000);
    expect(worker.inFlight).toBe(0);
    expect(await bed.deliveries()).toEqual([]);
  });
});
