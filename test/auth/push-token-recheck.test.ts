// SPEC §13: a push subscription made with an introspected token is re-checked before a delivery once its
// last confirmation is older than HERALD_AUTH_RECHECK_SECONDS: inactive → the subscription is deleted and
// nothing is sent; the endpoint unreachable → the delivery waits, nothing is deleted. A JWT's expiry alone
// ends nothing. Against a real authorization server, on both engines.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPushTokenRecheck } from '../../src/auth/push-token-recheck.js';
import { createTokenResolver } from '../../src/auth/token-resolver.js';
import { loadConfig } from '../../src/config.js';
import { startAuthServer, type AuthServer } from '../support/auth-server.js';
import { freePort } from '../support/free-port.js';
import { createBrowser } from '../support/push-receiver.js';
import { createPushBed, type PushBed } from '../support/push-bed.js';
import { ENGINES } from '../support/test-app.js';

const HOUR = 3_600_000;
let as: AuthServer;
beforeAll(async () => {
  as = await startAuthServer();
});
afterAll(() => as?.close());

describe.each(ENGINES)('re-checking host tokens before pushing on %s', (engine) => {
  let bed: PushBed;
  afterEach(() => bed?.close());

  /** A bed whose handler re-checks through introspection at `introspectionUrl`. */
  async function bedWith(introspectionUrl: string): Promise<PushBed> {
    const env = {
      HERALD_AUTH_JWKS_URL: as.jwksUrl,
      HERALD_AUTH_ISSUER: as.issuer,
      HERALD_AUTH_INTROSPECTION_URL: introspectionUrl,
      HERALD_AUTH_CLIENT_ID: as.clientId,
      HERALD_AUTH_CLIENT_SECRET: as.clientSecret,
    };
    return createPushBed(engine, {
      env,
      handler: (t) => ({
        recheckToken: createPushTokenRecheck({
          db: t.store.db,
          now: () => t.clock.now,
          tokens: createTokenResolver({ db: t.store.db, now: () => t.clock.now, auth: loadConfig(env).auth }),
          recheckSeconds: 3600,
        }),
      }),
    });
  }

  async function subscribeWith(token: string, path: string) {
    const browser = createBrowser(bed.receiver.url, path, bed.receiver.received);
    const res = await bed.t.client(token, 'POST', '/api/v1/push/subscription', {
      subscription: { endpoint: browser.endpoint, keys: browser.keys, standard: true },
      data: { alerts: { follow: true, favourite: true } },
    });
    expect(res.statusCode).toBe(200);
    return browser;
  }
  let actor = 100;
  const follow = async () => {
    const id = String(actor++);
    await bed.t.account(id);
    return bed.t.notify({ account_id: '1', type: 'follow', from_account_id: id });
  };
  const subscriptions = () => bed.t.store.db.selectFrom('push_subscriptions').selectAll().execute();

  it('asks again after an hour: active → sent; revoked at the authorization server → subscription deleted, nothing sent', async () => {
    bed = await bedWith(as.introspectionUrl);
    const token = await as.issueToken({ sub: '1', scope: 'push', format: 'opaque', ttlSeconds: 7 * 24 * 3600 });
    const browser = await subscribeWith(token, '/push/opaque');
    const calls = as.introspectionCalls();

    await follow();
    expect((await bed.drain()).map((r) => r.kind)).toEqual(['sent']);
    expect(as.introspectionCalls()).toBe(calls); // confirmed when subscribing, minutes ago

    bed.t.clock.now += HOUR + 1000;
    await follow();
    expect((await bed.drain()).map((r) => r.kind)).toEqual(['sent']);
    expect(as.introspectionCalls()).toBe(calls + 1);
    expect(browser.received()).toHaveLength(2);
    expect(JSON.parse(browser.decrypt(browser.received()[1])).access_token).toBe(token);

    await as.revoke(token);
    bed.t.clock.now += HOUR + 1000;
    await follow();
    expect(await bed.drain()).toEqual([{ kind: 'skipped', reason: 'access token no longer active' }]);
    expect(browser.received()).toHaveLength(2);
    expect(await subscriptions()).toEqual([]);
    expect(await bed.deliveries()).toEqual([]);
  });

  it('waits while the introspection endpoint is unreachable, and deletes nothing', async () => {
    // The app confirms the token through the real server; the worker's re-check finds a closed port.
    const closed = `http://127.0.0.1:${await freePort()}/introspect`;
    const token = await as.issueToken({ sub: '1', scope: 'push', format: 'opaque', ttlSeconds: 7 * 24 * 3600 });
    bed = await createPushBed(engine, {
      env: {
        HERALD_AUTH_INTROSPECTION_URL: as.introspectionUrl,
        HERALD_AUTH_CLIENT_ID: as.clientId,
        HERALD_AUTH_CLIENT_SECRET: as.clientSecret,
      },
      handler: (t) => {
        const env = { HERALD_AUTH_INTROSPECTION_URL: closed, HERALD_AUTH_CLIENT_ID: 'x', HERALD_AUTH_CLIENT_SECRET: 'y' };
        const tokens = createTokenResolver({ db: t.store.db, now: () => t.clock.now, auth: loadConfig(env).auth });
        return { recheckToken: createPushTokenRecheck({ db: t.store.db, now: () => t.clock.now, tokens, recheckSeconds: 3600 }) };
      },
    });
    const browser = await subscribeWith(token, '/push/waiting');
    bed.t.clock.now += HOUR + 1000;
    await follow();
    const [result] = await bed.drain();
    expect(result).toMatchObject({ kind: 'sent', action: 'retry' });
    expect(browser.received()).toHaveLength(0);
    expect(await subscriptions()).toHaveLength(1);
    const [delivery] = await bed.deliveries();
    expect(Number(delivery.next_attempt_at)).toBeGreaterThan(bed.t.clock.now);
    expect(delivery.last_status).toMatch(/introspection unavailable/);
  });

  it('a JWT past its expiry does not end its subscription', async () => {
    bed = await bedWith(as.introspectionUrl);
    const token = await as.issueToken({ sub: '1', scope: 'push', format: 'jwt', ttlSeconds: 300 });
    const browser = await subscribeWith(token, '/push/jwt');
    bed.t.clock.now += 2 * HOUR;
    await follow();
    expect((await bed.drain()).map((r) => r.kind)).toEqual(['sent']);
    expect(browser.received()).toHaveLength(1);
    expect(await subscriptions()).toHaveLength(1);
  });
});
