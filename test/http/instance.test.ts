// What clients read to find their way (SPEC §10, §12): instance, credentials, health, unknown routes, CORS.
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { schemaErrors } from '../support/openapi.js';
import { createTestApp, ENGINES, PUBLIC_URL, VAPID_PUBLIC_KEY, type TestApp } from '../support/test-app.js';

const JSON_TYPE = 'application/json; charset=utf-8';

describe.each(ENGINES)('instance, health and routing on %s', (engine) => {
  let t: TestApp;

  beforeEach(async () => {
    t = await createTestApp(engine);
    await t.account('1', { locale: 'fr', display_name: 'Bob' });
  });
  afterEach(() => t.close());

  it('describes the v1 instance: streaming_api, VAPID key, api_versions, valid as V1Instance', async () => {
    const res = await t.client(undefined, 'GET', '/api/v1/instance');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    const body = res.json();
    expect(schemaErrors('V1Instance', body)).toEqual([]);
    expect(body.uri).toBe('herald.test');
    expect(body.email).toBe('postmaster@herald.test');
    expect(body.urls.streaming_api).toBe('wss://herald.test');
    // Padded, the same string as every subscription's server_key (SPEC §10).
    expect(body.configuration.vapid.public_key).toBe(`${VAPID_PUBLIC_KEY}=`);
    expect(body.api_versions).toEqual({ mastodon: expect.any(Number) });
    expect(body.api_versions.mastodon).toBeGreaterThanOrEqual(2);
  });

  it('describes the v2 instance: urls.streaming, VAPID key, api_versions, limits, valid as Instance', async () => {
    const res = await t.client(undefined, 'GET', '/api/v2/instance');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    const body = res.json();
    expect(schemaErrors('Instance', body)).toEqual([]);
    expect(body.domain).toBe('herald.test');
    expect(body.configuration.urls.streaming).toBe('wss://herald.test');
    expect(body.configuration.vapid).toEqual({ public_key: `${VAPID_PUBLIC_KEY}=` });
    expect(body.api_versions.mastodon).toBeGreaterThanOrEqual(2);
    expect(body.version).toMatch(/^4\.\d+\.\d+/);
  });

  it('derives ws:// streaming and the domain from a plain-http public URL with a port', async () => {
    const local = await createTestApp(engine, { env: { HERALD_PUBLIC_URL: 'http://127.0.0.1:4100' } });
    try {
      const v1 = (await local.client(undefined, 'GET', '/api/v1/instance')).json();
      const v2 = (await local.client(undefined, 'GET', '/api/v2/instance')).json();
      expect(v1.urls.streaming_api).toBe('ws://127.0.0.1:4100');
      expect(v2.configuration.urls.streaming).toBe('ws://127.0.0.1:4100');
      expect(v2.domain).toBe('127.0.0.1:4100');
    } finally {
      await local.close();
    }
  });

  it("answers verify_credentials with the token's account, valid as CredentialAccount", async () => {
    const token = await t.token('1', 'read');
    const res = await t.client(token, 'GET', '/api/v1/accounts/verify_credentials');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    const body = res.json();
    expect(schemaErrors('CredentialAccount', body)).toEqual([]);
    expect(body).toMatchObject({ id: '1', username: 'user1', display_name: 'Bob', source: { language: 'fr' } });
  });

  it('gives the primary language subtag of a regional locale as source.language', async () => {
    await t.account('2', { locale: 'pt-BR', indexable: false });
    const token = await t.token('2', 'read');
    const body = (await t.client(token, 'GET', '/api/v1/accounts/verify_credentials')).json();
    expect(body.source).toMatchObject({ language: 'pt', indexable: false });
    expect(schemaErrors('CredentialAccount', body)).toEqual([]);
  });

  it('answers verify_credentials with 401 once the account is deleted', async () => {
    const token = await t.token('1', 'read');
    await t.admin('DELETE', '/accounts/1');
    const res = await t.client(token, 'GET', '/api/v1/accounts/verify_credentials');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'The access token is invalid' });
  });

  it('answers /healthz and /readyz with JSON', async () => {
    for (const url of ['/healthz', '/readyz']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(JSON_TYPE);
      expect(res.json()).toEqual({ status: 'ok' });
    }
  });

  it('answers /readyz 503 with the reason when a migration is pending', async () => {
    await sql`delete from kysely_migration`.execute(t.store.db);
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    expect(res.json()).toEqual({ status: 'unavailable', reason: 'migrations pending' });
    // Liveness does not depend on the database.
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('answers /readyz 503 when the database is unreachable', async () => {
    await t.store.db.destroy();
    const res = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', reason: 'database unreachable' });
  });

  it.each([
    ['GET', '/'],
    ['GET', '/api/v1/nothing-here'],
    ['POST', '/api/v1/statuses'],
    ['GET', '/api/v3/notifications'],
    ['DELETE', '/api/v1/notifications'],
    ['GET', '/api/admin/v1/nothing-here'],
    ['GET', '/api/v1/notifications/1/dismiss'],
  ] as const)('answers an unknown route %s %s with 404 {"error":"Record not found"}', async (method, url) => {
    const token = await t.token('1', 'read write');
    const res = await t.client(token, method, url);
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe(JSON_TYPE);
    expect(res.json()).toEqual({ error: 'Record not found' });
  });

  // Regression: routing errors bypassed the error handler and answered Fastify's own body
  // ({"error":"Bad Request","code":"FST_ERR_MAX_PARAM_LENGTH",…}, status 414) without our content type.
  it('answers an id longer than any route takes with 404, and a badly encoded path with 400, in our shape', async () => {
    const token = await t.token('1', 'read');
    const long = await t.client(token, 'GET', `/api/v1/notifications/${'1'.repeat(600)}`);
    expect({ status: long.statusCode, type: long.headers['content-type'], body: long.json() }).toEqual({
      status: 404,
      type: JSON_TYPE,
      body: { error: 'Record not found' },
    });
    const bad = await t.client(token, 'GET', '/api/v1/notifications/%E0%A4%A');
    expect({ status: bad.statusCode, type: bad.headers['content-type'], body: bad.json() }).toEqual({
      status: 400,
      type: JSON_TYPE,
      body: { error: 'Invalid URL' },
    });
  });

  it('exposes Link and the X-RateLimit-* headers to browsers', async () => {
    const token = await t.token('1', 'read');
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/notifications',
      headers: { origin: 'https://elk.zone', authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    const exposed = String(res.headers['access-control-expose-headers']).split(/\s*,\s*/).map((h) => h.toLowerCase());
    for (const header of ['link', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) {
      expect(exposed).toContain(header);
    }
  });

  it('answers a CORS preflight that lets a browser send Authorization and JSON', async () => {
    const res = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/notifications/clear',
      headers: {
        origin: 'https://elk.zone',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.statusCode).toBeLessThan(300);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(String(res.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
  });

  it('answers errors with CORS headers too, so browsers can read them', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/notifications', headers: { origin: 'https://elk.zone' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('builds absolute Link headers from the public URL', async () => {
    const token = await t.token('1', 'read');
    await t.account('2');
    await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    const res = await t.client(token, 'GET', '/api/v1/notifications?limit=1');
    expect(res.headers.link).toMatch(new RegExp(`^<${PUBLIC_URL}/api/v1/notifications\\?limit=1&max_id=\\d+>; rel="next"`));
  });
});
