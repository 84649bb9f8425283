// SPEC §13 against a real authorization server: oidc-provider, started here on 127.0.0.1, issues user-bound
// tokens through a real authorization_code grant, opaque (introspected) and JWT; Herald, on each engine,
// must take them exactly as its own tokens, and refuse what it must.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAuthServer, type AuthServer } from '../support/auth-server.js';
import { createTestApp, ENGINES, type TestApp } from '../support/test-app.js';
import { hashToken } from '../../src/store/tokens.js';

let as: AuthServer;
beforeAll(async () => {
  as = await startAuthServer();
});
afterAll(() => as?.close());

const authEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
  HERALD_AUTH_JWKS_URL: as.jwksUrl,
  HERALD_AUTH_ISSUER: as.issuer,
  HERALD_AUTH_AUDIENCE: as.audience,
  HERALD_AUTH_INTROSPECTION_URL: as.introspectionUrl,
  HERALD_AUTH_CLIENT_ID: as.clientId,
  HERALD_AUTH_CLIENT_SECRET: as.clientSecret,
  ...overrides,
});

describe.each(ENGINES)('host tokens on %s', (engine) => {
  let t: TestApp;

  beforeEach(async () => {
    t = await createTestApp(engine, { env: authEnv() });
    // The authorization server's tokens carry real times.
    t.clock.now = Date.now();
    await t.account('1');
    await t.account('2');
    await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    await t.notify({ account_id: '2', type: 'follow', from_account_id: '1' });
  });
  afterEach(() => t.close());

  const list = async (token: string) => t.client(token, 'GET', '/api/v1/notifications');

  for (const format of ['jwt', 'opaque'] as const) {
    it(`${format}: the token's sub decides the account and its scopes decide what it may do`, async () => {
      const reader = await as.issueToken({ sub: '1', scope: 'read', format });
      const res = await list(reader);
      expect(res.statusCode).toBe(200);
      expect(res.json().map((n: { account: { id: string } }) => n.account.id)).toEqual(['2']);
      const other = await list(await as.issueToken({ sub: '2', scope: 'read:notifications', format }));
      expect(other.json().map((n: { account: { id: string } }) => n.account.id)).toEqual(['1']);
      // read without write: dismissing is outside its scopes; push alone cannot read.
      expect((await t.client(reader, 'POST', '/api/v1/notifications/clear')).statusCode).toBe(403);
      expect((await list(await as.issueToken({ sub: '1', scope: 'push', format }))).statusCode).toBe(403);
      const writer = await as.issueToken({ sub: '1', scope: 'read write', format });
      expect((await t.client(writer, 'POST', '/api/v1/notifications/clear')).statusCode).toBe(200);
      expect((await list(writer)).json()).toEqual([]);
      // An account the host has not upserted yet: an empty list, and verify_credentials 404.
      const stranger = await as.issueToken({ sub: '99', scope: 'read', format });
      expect((await list(stranger)).json()).toEqual([]);
      expect((await t.client(stranger, 'GET', '/api/v1/accounts/verify_credentials')).statusCode).toBe(404);
    });

    it(`${format}: one local row per token, bound like an own token (push subscription, rate-limit identity)`, async () => {
      const token = await as.issueToken({ sub: '1', scope: 'read push', format });
      expect((await list(token)).statusCode).toBe(200);
      expect((await list(token)).statusCode).toBe(200);
      const rows = await t.store.db.selectFrom('tokens').selectAll().where('token_hash', '=', hashToken(token)).execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ account_id: '1', scopes: 'read push', source: format === 'jwt' ? 'jwt' : 'introspection', revoked_at: null });
      expect(Number(rows[0].expires_at)).toBeGreaterThan(Date.now());
      const subscribe = await t.client(token, 'POST', '/api/v1/push/subscription', {
        subscription: { endpoint: 'https://push.example.net/send/abc', keys: P256DH_AND_AUTH },
        data: { alerts: { follow: true } },
      });
      expect(subscribe.statusCode).toBe(200);
      expect((await t.client(token, 'GET', '/api/v1/push/subscription')).json().endpoint).toBe('https://push.example.net/send/abc');
    });
  }

  it('introspection answers are cached, and concurrent checks of one token share one request', async () => {
    const token = await as.issueToken({ sub: '1', scope: 'read', format: 'opaque' });
    const before = as.introspectionCalls();
    const answers = await Promise.all(Array.from({ length: 8 }, () => list(token)));
    expect(answers.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
    expect((await list(token)).statusCode).toBe(200);
    expect(as.introspectionCalls() - before).toBe(1);
    // An unknown opaque token is asked once, then its inactive answer is believed for 10 s.
    const calls = as.introspectionCalls();
    expect((await list('not-a-token-anyone-issued')).statusCode).toBe(401);
    expect((await list('not-a-token-anyone-issued')).statusCode).toBe(401);
    expect(as.introspectionCalls() - calls).toBe(1);
    t.clock.now += 10_001;
    expect((await list('not-a-token-anyone-issued')).statusCode).toBe(401);
    expect(as.introspectionCalls() - calls).toBe(2);
  });

  it('revocation at the authorization server takes effect when the cached answer runs out', async () => {
    const token = await as.issueToken({ sub: '1', scope: 'read', format: 'opaque' });
    expect((await list(token)).statusCode).toBe(200);
    await as.revoke(token);
    // HERALD_AUTH_CACHE_SECONDS (60): still the cached answer …
    t.clock.now += 59_000;
    expect((await list(token)).statusCode).toBe(200);
    // … then asked again, and refused.
    t.clock.now += 2_000;
    const refused = await list(token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ error: 'The access token is invalid' });
  });

  it('revocation through Herald is at once and final, even while the authorization server calls the token active', async () => {
    const opaque = await as.issueToken({ sub: '1', scope: 'read write push', format: 'opaque' });
    const jwt = await as.issueToken({ sub: '1', scope: 'read', format: 'jwt' });
    expect((await list(opaque)).statusCode).toBe(200);
    expect((await list(jwt)).statusCode).toBe(200);
    await t.client(opaque, 'POST', '/api/v1/push/subscription', {
      subscription: { endpoint: 'https://push.example.net/send/xyz', keys: P256DH_AND_AUTH },
    });
    expect((await t.admin('POST', '/tokens/revoke', { access_token: opaque })).json()).toEqual({ revoked: 1 });
    expect((await list(opaque)).statusCode).toBe(401);
    expect(await t.store.db.selectFrom('push_subscriptions').selectAll().execute()).toEqual([]);
    // By hash, for a JWT.
    expect((await t.admin('POST', '/tokens/revoke', { token_sha256: hashToken(jwt).toUpperCase() })).json()).toEqual({ revoked: 1 });
    expect((await list(jwt)).statusCode).toBe(401);
    // Importing it again is refused; revoking again revokes nothing.
    const reimport = await t.admin('POST', '/tokens', { access_token: opaque, account_id: '1', scopes: 'read' });
    expect(reimport.statusCode).toBe(422);
    expect((await t.admin('POST', '/tokens/revoke', { access_token: opaque })).json()).toEqual({ revoked: 0 });
    // A token Herald has never seen, revoked ahead: refused when it first arrives.
    const unseen = await as.issueToken({ sub: '1', scope: 'read', format: 'opaque' });
    expect((await t.admin('POST', '/tokens/revoke', { access_token: unseen })).json()).toEqual({ revoked: 0 });
    expect((await list(unseen)).statusCode).toBe(401);
  });

  it('"log out everywhere" revokes every token of the account, and external tokens issued before it', async () => {
    const own = await t.token('1', 'read');
    const seen = await as.issueToken({ sub: '1', scope: 'read', format: 'jwt' });
    const notYetSeen = await as.issueToken({ sub: '1', scope: 'read', format: 'opaque' });
    const otherAccount = await as.issueToken({ sub: '2', scope: 'read', format: 'jwt' });
    expect((await list(seen)).statusCode).toBe(200);
    expect((await list(otherAccount)).statusCode).toBe(200);
    // Tokens carry their issue time in whole seconds: the cut-off comes a second after they were issued.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    t.clock.now = Date.now();
    expect((await t.admin('POST', '/tokens/revoke', { account_id: '1' })).json()).toEqual({ revoked: 2 });
    for (const token of [own, seen, notYetSeen]) expect((await list(token)).statusCode).toBe(401);
    expect((await list(otherAccount)).statusCode).toBe(200);
    // The user signs in again afterwards: the new token works.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    t.clock.now = Date.now();
    expect((await list(await as.issueToken({ sub: '1', scope: 'read', format: 'jwt' }))).statusCode).toBe(200);
  });

  it('imports the host tokens by value or by hash, and updates them on a second import', async () => {
    const first = await t.admin('POST', '/tokens', { access_token: 'host-token-aaaa', account_id: '1', scopes: 'read', client_name: 'Elk' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ id: expect.any(String), access_token: 'host-token-aaaa', token_type: 'Bearer', scope: 'read' });
    const byHash = await t.admin('POST', '/tokens', { token_sha256: hashToken('host-token-bbbb'), account_id: '2', scopes: 'read write' });
    expect(byHash.statusCode).toBe(200);
    expect(byHash.json()).not.toHaveProperty('access_token');
    expect((await list('host-token-aaaa')).json().map((n: { account: { id: string } }) => n.account.id)).toEqual(['2']);
    expect((await list('host-token-bbbb')).json().map((n: { account: { id: string } }) => n.account.id)).toEqual(['1']);
    // Imported tokens never go to introspection.
    const calls = as.introspectionCalls();
    await list('host-token-aaaa');
    expect(as.introspectionCalls()).toBe(calls);
    // A second import updates account and scopes, same id.
    const again = await t.admin('POST', '/tokens', { access_token: 'host-token-aaaa', account_id: '2', scopes: 'push' });
    expect(again.json().id).toBe(first.json().id);
    expect((await list('host-token-aaaa')).statusCode).toBe(403);
    // Revoke by id.
    expect((await t.admin('POST', '/tokens/revoke', { id: Number(first.json().id) })).json()).toEqual({ revoked: 1 });
    expect((await list('host-token-aaaa')).statusCode).toBe(401);
    // Herald's own tokens work alongside.
    expect((await list(await t.token('1', 'read'))).statusCode).toBe(200);
  });

  it('refuses bad import and revoke bodies with 422 and changes nothing', async () => {
    const before = await t.store.db.selectFrom('tokens').selectAll().execute();
    const bad: [string, unknown][] = [
      ['/tokens', { access_token: 'x', token_sha256: hashToken('x'), account_id: '1', scopes: 'read' }],
      ['/tokens', { token_sha256: 'abc', account_id: '1', scopes: 'read' }],
      ['/tokens', { access_token: 12, account_id: '1', scopes: 'read' }],
      ['/tokens', { access_token: 'has space', account_id: '1', scopes: 'read' }],
      ['/tokens', { access_token: 'x'.repeat(5000), account_id: '1', scopes: 'read' }],
      ['/tokens', { access_token: 'ok-token', account_id: 'nobody', scopes: 'read' }],
      ['/tokens/revoke', {}],
      ['/tokens/revoke', { id: 1, account_id: '1' }],
      ['/tokens/revoke', { id: 'one' }],
      ['/tokens/revoke', { account_id: ['1'] }],
      ['/tokens/revoke', { token_sha256: 'zz' }],
      ['/tokens/revoke', [1]],
    ];
    for (const [route, body] of bad) {
      const res = await t.admin('POST', route, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(res.json().error).toMatch(/^Validation failed: /);
    }
    expect(await t.store.db.selectFrom('tokens').selectAll().execute()).toEqual(before);
    expect(await t.store.db.selectFrom('token_cutoffs').selectAll().execute()).toEqual([]);
  });

  it('a JWT that fails verification is 401 and never sent to introspection', async () => {
    const calls = as.introspectionCalls();
    const real = await as.issueToken({ sub: '1', scope: 'read', format: 'jwt' });
    const [header, payload] = real.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...decode(payload), sub: '2' })).toString('base64url')}.${real.split('.')[2]}`;
    const none = `${b64({ alg: 'none', typ: 'at+jwt' })}.${payload}.`;
    for (const token of [tampered, none, 'a.b.c']) {
      const res = await list(token);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'The access token is invalid' });
    }
    expect(as.introspectionCalls()).toBe(calls);
  });

  it('a JWT past its expiry and the 60 s leeway is 401', async () => {
    const token = await as.issueToken({ sub: '1', scope: 'read', format: 'jwt', ttlSeconds: 5 });
    t.clock.now = Date.now() + 5_000 + 59_000;
    expect((await list(token)).statusCode).toBe(200);
    t.clock.now = Date.now() + 5_000 + 62_000;
    expect((await list(token)).statusCode).toBe(401);
  });

  it('counts every check by source and outcome on /metrics, and never logs or stores the token', async () => {
    const jwt = await as.issueToken({ sub: '1', scope: 'read', format: 'jwt' });
    await list(jwt);
    await list(jwt);
    await list('nonsense');
    await list(await t.token('1', 'read'));
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/herald_token_checks_total\{source="jwt",outcome="valid"\} 2/);
    expect(metrics).toMatch(/herald_token_checks_total\{source="introspection",outcome="invalid"\} 1/);
    expect(metrics).toMatch(/herald_token_checks_total\{source="own",outcome="valid"\} 1/);
    const dump = JSON.stringify(await t.store.db.selectFrom('tokens').selectAll().execute());
    expect(dump).not.toContain(jwt);
  });
});

describe.each(ENGINES)('a JWT for another issuer or audience on %s', (engine) => {
  for (const [name, env] of [
    ['issuer', { HERALD_AUTH_ISSUER: 'https://someone-else.example' }],
    ['audience', { HERALD_AUTH_AUDIENCE: 'https://another-service.example' }],
  ] as const) {
    it(`wrong ${name}: 401`, async () => {
      const t = await createTestApp(engine, { env: authEnv(env) });
      try {
        t.clock.now = Date.now();
        await t.account('1');
        const token = await as.issueToken({ sub: '1', scope: 'read', format: 'jwt' });
        expect((await t.client(token, 'GET', '/api/v1/notifications')).statusCode).toBe(401);
      } finally {
        await t.close();
      }
    });
  }
});

const P256DH_AND_AUTH = {
  p256dh: 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4',
  auth: 'BTBZMqHH6r4Tts7J_aSIgg',
};
const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const decode = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
