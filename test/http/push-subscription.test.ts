import { createECDH, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NOTIFICATION_TYPES } from '../../src/domain/notification-types.js';
import { loadPushSecrets, tokenContext } from '../../src/services/push-secrets.js';
import { createTestApp, ENGINES, PUBLIC_URL, VAPID_PUBLIC_KEY, type TestApp } from '../support/test-app.js';
import { schemaErrors } from '../support/openapi.js';

const PATH = '/api/v1/push/subscription';

function browserKeys(): { p256dh: string; auth: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
}

const ENDPOINT = 'https://push.example.net/send/abc';

describe.each(ENGINES)('push subscription API on %s', (engine) => {
  let t: TestApp;
  let token: string;
  let keys: { p256dh: string; auth: string };

  beforeEach(async () => {
    t = await createTestApp(engine, { env: { HERALD_PUSH_ALLOW_PRIVATE: '127.0.0.1,receiver.test' } });
    await t.account('1');
    await t.account('2');
    token = await t.token('1', 'push');
    keys = browserKeys();
  });
  afterEach(() => t.close());

  const rows = () => t.store.db.selectFrom('push_subscriptions').selectAll().execute();
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const postForm = (fields: Record<string, string>, bearer = token) =>
    t.app.inject({
      method: 'POST',
      url: PATH,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: form(fields),
    });

  it('creates from a form with nested alerts, and answers the entity with every alert type', async () => {
    const res = await postForm({
      'subscription[endpoint]': ENDPOINT,
      'subscription[keys][p256dh]': keys.p256dh,
      'subscription[keys][auth]': keys.auth,
      'subscription[standard]': 'true',
      'data[alerts][mention]': 'true',
      'data[alerts][follow]': '1',
      'data[alerts][favourite]': 'false',
      'data[alerts][admin][sign_up]': 'true',
      'data[policy]': 'followed',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = res.json();
    expect(Object.keys(body)).toEqual(['id', 'endpoint', 'standard', 'alerts', 'server_key', 'policy']);
    expect(typeof body.id).toBe('number');
    expect(body).toMatchObject({ endpoint: ENDPOINT, standard: true, policy: 'followed' });
    expect(Object.keys(body.alerts).sort()).toEqual([...NOTIFICATION_TYPES].sort());
    expect(Object.entries(body.alerts).filter(([, on]) => on).map(([type]) => type).sort()).toEqual(['admin.sign_up', 'follow', 'mention']);
    // server_key: the VAPID key, url-safe base64 with = padding (SPEC §8.1).
    expect(body.server_key).toBe(`${VAPID_PUBLIC_KEY}=`);
    expect(Buffer.from(body.server_key, 'base64url').length).toBe(65);
    // The schema has id as a string; SPEC §1.4 keeps Mastodon's number on the wire.
    expect(schemaErrors('WebPushSubscription', { ...body, id: String(body.id) })).toEqual([]);
  });

  it('creates from JSON as masto.js sends it: top-level policy, nested admin alerts', async () => {
    const res = await t.client(token, 'POST', PATH, {
      subscription: { endpoint: ENDPOINT, keys },
      data: { alerts: { reblog: true, admin: { sign_up: false, report: true } } },
      policy: 'follower',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().policy).toBe('follower');
    expect(res.json().standard).toBe(false);
    expect(res.json().alerts).toMatchObject({ reblog: true, 'admin.report': true, 'admin.sign_up': false, mention: false });
  });

  it('reads admin alerts flat too, and data[policy] over a top-level policy', async () => {
    const res = await t.client(token, 'POST', PATH, {
      subscription: { endpoint: ENDPOINT, keys },
      data: { alerts: { 'admin.sign_up': true, 'admin.report': 'on', poll: 'f' }, policy: 'none' },
      policy: 'all',
    });
    expect(res.json().alerts).toMatchObject({ 'admin.sign_up': true, 'admin.report': true, poll: false });
    expect(res.json().policy).toBe('none');
  });

  it('turns no alert on unless sent, with policy all', async () => {
    const res = await t.client(token, 'POST', PATH, { subscription: { endpoint: ENDPOINT, keys } });
    expect(res.statusCode).toBe(200);
    expect(Object.values(res.json().alerts).every((on) => on === false)).toBe(true);
    expect(res.json().policy).toBe('all');
  });

  it('shows, replaces data wholesale with PUT, and deletes', async () => {
    expect((await t.client(token, 'GET', PATH)).statusCode).toBe(404);
    expect((await t.client(token, 'GET', PATH)).json()).toEqual({ error: 'Record not found' });
    const created = (
      await t.client(token, 'POST', PATH, {
        subscription: { endpoint: ENDPOINT, keys },
        data: { alerts: { mention: true, follow: true }, policy: 'followed' },
      })
    ).json();
    expect((await t.client(token, 'GET', PATH)).json()).toEqual(created);

    const put = await t.client(token, 'PUT', PATH, { data: { alerts: { favourite: true } } });
    expect(put.statusCode).toBe(200);
    expect(put.json().id).toBe(created.id);
    expect(put.json().endpoint).toBe(ENDPOINT);
    // Wholesale: mention and follow were left out, so they are off; policy back to its default.
    expect(Object.entries(put.json().alerts).filter(([, on]) => on).map(([k]) => k)).toEqual(['favourite']);
    expect(put.json().policy).toBe('all');

    const bad = await t.client(token, 'PUT', PATH, { data: { alerts: { mention: true }, policy: 'friends' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error).toBe('Validation failed: policy must be one of all, followed, follower, none');
    expect((await t.client(token, 'GET', PATH)).json()).toEqual(put.json());

    const del = await t.client(token, 'DELETE', PATH);
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({});
    expect((await t.client(token, 'GET', PATH)).statusCode).toBe(404);
    expect((await t.client(token, 'PUT', PATH, { data: { alerts: { mention: true } } })).statusCode).toBe(404);
    // DELETE answers {} whether or not there was one.
    expect((await t.client(token, 'DELETE', PATH)).json()).toEqual({});
  });

  it('replaces the token’s subscription on a second POST: a new id, one row', async () => {
    const first = (await t.client(token, 'POST', PATH, { subscription: { endpoint: ENDPOINT, keys } })).json();
    const second = (await t.client(token, 'POST', PATH, { subscription: { endpoint: `${ENDPOINT}2`, keys } })).json();
    expect(second.id).not.toBe(first.id);
    expect((await rows()).map((r) => r.endpoint)).toEqual([`${ENDPOINT}2`]);
  });

  it('leaves exactly one subscription after concurrent POSTs for one token, none failing', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.client(token, 'POST', PATH, { subscription: { endpoint: `${ENDPOINT}/${i}`, keys }, data: { alerts: { mention: true } } }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    const stored = await rows();
    expect(stored).toHaveLength(1);
    expect(results.map((r) => r.json().id)).toContain(stored[0].id);
  });

  it('keeps one subscription per token: another token of the same account sees and removes only its own', async () => {
    const other = await t.token('1', 'push');
    await t.client(token, 'POST', PATH, { subscription: { endpoint: ENDPOINT, keys } });
    expect((await t.client(other, 'GET', PATH)).statusCode).toBe(404);
    expect((await t.client(other, 'PUT', PATH, { data: { alerts: { mention: true } } })).statusCode).toBe(404);
    await t.client(other, 'DELETE', PATH);
    expect((await t.client(token, 'GET', PATH)).statusCode).toBe(200);
    await t.client(other, 'POST', PATH, { subscription: { endpoint: `${ENDPOINT}/other`, keys } });
    expect((await rows()).map((r) => r.endpoint).sort()).toEqual([ENDPOINT, `${ENDPOINT}/other`]);
  });

  it('needs the push scope, a valid token and a user', async () => {
    const body = { subscription: { endpoint: ENDPOINT, keys } };
    const readWrite = await t.token('1', 'read write');
    expect((await t.client(readWrite, 'POST', PATH, body)).statusCode).toBe(403);
    expect((await t.client(readWrite, 'GET', PATH)).json()).toEqual({ error: 'This action is outside the authorized scopes' });
    expect((await t.client(undefined, 'GET', PATH)).statusCode).toBe(401);
    expect((await t.client('not-a-token', 'DELETE', PATH)).json()).toEqual({ error: 'The access token is invalid' });
    const appOnly = await t.token(null, 'push');
    const res = await t.client(appOnly, 'POST', PATH, body);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ error: 'This method requires an authenticated user' });
    expect(await rows()).toEqual([]);
  });

  it('answers 400 when the subscription parameter is missing', async () => {
    const res = await t.client(token, 'POST', PATH, { data: { alerts: { mention: true } } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'param is missing or the value is empty: subscription' });
    expect((await postForm({ subscription: 'x' })).statusCode).toBe(400);
  });

  const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
  const invalid: [string, Record<string, unknown>, string][] = [
    ['missing endpoint', { endpoint: '' }, "endpoint can't be blank"],
    ['plain http', { endpoint: 'http://push.example.net/x' }, 'endpoint must be an https URL'],
    ['relative URL', { endpoint: '/push' }, 'endpoint is not an absolute URL'],
    ['overlong endpoint', { endpoint: `https://push.example.net/${'a'.repeat(2048)}` }, 'longer than 2048'],
    ['ftp', { endpoint: 'ftp://push.example.net/x' }, 'must be an https URL'],
    ['missing p256dh', { p256dh: undefined }, "p256dh can't be blank"],
    ['p256dh not base64', { p256dh: '!!!' }, 'p256dh is not base64'],
    ['p256dh too short', { p256dh: Buffer.alloc(33, 2).toString('base64url') }, 'p256dh must be a 65-byte'],
    ['p256dh off the curve', { p256dh: offCurve }, 'not a point on the P-256 curve'],
    ['auth of 12 bytes', { auth: randomBytes(12).toString('base64url') }, 'auth must decode to 16 bytes'],
    ['missing auth', { auth: '' }, "auth can't be blank"],
  ];
  it.each(invalid)('refuses %s with 422, storing nothing', async (_name, change, message) => {
    const { endpoint = ENDPOINT, ...keyChange } = change as { endpoint?: string; p256dh?: string; auth?: string };
    const res = await t.client(token, 'POST', PATH, {
      subscription: { endpoint, keys: { ...keys, ...keyChange } },
      data: { alerts: { mention: true } },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatch(/^Validation failed: /);
    expect(res.json().error).toContain(message);
    expect(await rows()).toEqual([]);
  });

  it('lists every problem at once and keeps the previous subscription', async () => {
    const good = (await t.client(token, 'POST', PATH, { subscription: { endpoint: ENDPOINT, keys } })).json();
    const res = await t.client(token, 'POST', PATH, {
      subscription: { endpoint: 'http://x', keys: { p256dh: 'abc', auth: 'abc' } },
      policy: 'everyone',
    });
    expect(res.statusCode).toBe(422);
    const error: string = res.json().error;
    for (const part of ['endpoint must be an https URL', 'p256dh must be a 65-byte', 'auth must decode to 16 bytes', 'policy must be one of']) {
      expect(error).toContain(part);
    }
    expect((await t.client(token, 'GET', PATH)).json()).toEqual(good);
  });

  it.each([
    'https://127.0.0.1/push',
    'https://[::1]/push',
    'https://10.1.2.3/push',
    'https://172.16.0.1/push',
    'https://172.31.255.254/push',
    'https://192.168.1.1/push',
    'https://169.254.169.254/latest/meta-data',
    'https://[fc00::1]/push',
    'https://[fd12:3456::1]/push',
    'https://[::ffff:127.0.0.1]/push',
    'https://167772161/push', // WHATWG: 10.0.0.1
    'https://0x7f.1/push',
    'https://localhost/push',
    'https://push.localhost/push',
    'https://printer.local/push',
    'https://metadata.google.internal/push',
  ])('refuses the private endpoint %s', async (endpoint) => {
    const strict = await createTestApp(engine);
    try {
      await strict.account('1');
      const bearer = await strict.token('1', 'push');
      const res = await strict.client(bearer, 'POST', PATH, { subscription: { endpoint, keys } });
      expect(res.statusCode).toBe(422);
      expect(res.json().error).toMatch(/^Validation failed: endpoint (host .* is a (private|local)|.*private)/);
    } finally {
      await strict.close();
    }
  });

  it('accepts allow-listed hosts, plain http included for them only', async () => {
    for (const endpoint of ['http://127.0.0.1:4000/push', 'https://127.0.0.1/push', 'http://receiver.test:8080/p']) {
      const res = await t.client(token, 'POST', PATH, { subscription: { endpoint, keys } });
      expect(res.statusCode, endpoint).toBe(200);
    }
    const res = await t.client(token, 'POST', PATH, { subscription: { endpoint: 'http://10.0.0.1/push', keys } });
    expect(res.statusCode).toBe(422);
  });

  it('accepts keys in standard base64 with padding, and stores them canonical', async () => {
    const p256dh = Buffer.from(keys.p256dh, 'base64url').toString('base64');
    const auth = Buffer.from(keys.auth, 'base64url').toString('base64');
    expect(auth.endsWith('==')).toBe(true);
    const res = await t.client(token, 'POST', PATH, { subscription: { endpoint: ENDPOINT, keys: { p256dh, auth } } });
    expect(res.statusCode).toBe(200);
    const [row] = await rows();
    expect(row.p256dh).toBe(keys.p256dh);
    expect(row.auth).toBe(keys.auth);
  });

  it('keeps the plain token with the subscription, sealed at rest', async () => {
    await t.client(token, 'POST', PATH, { subscription: { endpoint: ENDPOINT, keys } });
    const [row] = await rows();
    expect(row.access_token_enc).not.toContain(token);
    const secrets = await loadPushSecrets(t.store.db);
    expect(secrets.tokenCipher.open(row.access_token_enc, tokenContext(row.token_id))).toBe(token);
    // Bound to its token row: it does not open as another token's.
    expect(() => secrets.tokenCipher.open(row.access_token_enc, tokenContext(row.token_id + 1))).toThrow();
  });

  it('removes the subscription when its token is revoked', async () => {
    const minted = (await t.admin('POST', '/tokens', { account_id: '1', scopes: 'push' })).json();
    await t.client(minted.access_token, 'POST', PATH, { subscription: { endpoint: ENDPOINT, keys } });
    expect(await rows()).toHaveLength(1);
    expect((await t.admin('DELETE', `/tokens/${minted.id}`)).statusCode).toBe(200);
    expect(await rows()).toEqual([]);
  });

  it('queues a push only for alerts that are on', async () => {
    await t.status('10', { author: '1' });
    await t.client(token, 'POST', PATH, { subscription: { endpoint: ENDPOINT, keys }, data: { alerts: { mention: true } } });
    await t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '10' });
    await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    const deliveries = await t.store.db.selectFrom('deliveries').selectAll().execute();
    expect(deliveries).toHaveLength(1);
  });

  describe('Unsubscribe-URL', () => {
    const subscribeAndSign = async () => {
      const created = (await t.client(token, 'POST', PATH, { subscription: { endpoint: ENDPOINT, keys } })).json();
      const [row] = await rows();
      const secrets = await loadPushSecrets(t.store.db);
      return { created, signed: secrets.unsubscribeTokens.sign(row, t.clock.now) };
    };
    const unsubscribe = (method: 'DELETE' | 'POST', token_: string) =>
      t.app.inject({ method, url: `/api/v1/push/unsubscribe/${token_}` });

    it('removes the subscription with a valid link, by DELETE or POST, without any bearer token', async () => {
      const { signed } = await subscribeAndSign();
      const res = await unsubscribe('DELETE', signed);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({});
      expect(await rows()).toEqual([]);
      expect((await unsubscribe('DELETE', signed)).statusCode).toBe(404);

      const again = await subscribeAndSign();
      expect((await unsubscribe('POST', again.signed)).json()).toEqual({});
      expect(await rows()).toEqual([]);
    });

    it('answers 404 and removes nothing for a tampered, foreign or expired link', async () => {
      const { signed } = await subscribeAndSign();
      const [id, exp, mac] = signed.split('.');
      const flipped = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
      for (const bad of [
        `${id}.${exp}.${flipped}`,
        `${id}.${Number(exp) + 3600}.${mac}`,
        `${Number(id) + 1}.${exp}.${mac}`,
        'garbage',
        `${id}.${exp}`,
      ]) {
        const res = await unsubscribe('DELETE', bad);
        expect(res.statusCode, bad).toBe(404);
        expect(res.json()).toEqual({ error: 'Record not found' });
      }
      t.clock.now += 48 * 3600 * 1000 + 1000;
      expect((await unsubscribe('POST', signed)).statusCode).toBe(404);
      expect(await rows()).toHaveLength(1);
    });

    it('stops working once the token’s subscription is replaced by another endpoint', async () => {
      const { signed } = await subscribeAndSign();
      await t.client(token, 'POST', PATH, { subscription: { endpoint: `${ENDPOINT}/new`, keys } });
      // The new row has a new id anyway, and a forged id would not match the MAC over the endpoint.
      expect((await unsubscribe('DELETE', signed)).statusCode).toBe(404);
      expect(await rows()).toHaveLength(1);
    });

    it('links are built from the public URL', async () => {
      expect(PUBLIC_URL).toMatch(/^https:/);
    });
  });
});
