// The host platform's API (SPEC §2, §12): every endpoint's success and each of its error statuses.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountJson, statusJson } from '../support/fixtures.js';
import { schemaErrors } from '../support/openapi.js';
import { countRows, snapshotStore } from '../support/snapshot.js';
import { ADMIN_TOKEN, createTestApp, ENGINES, START_TIME, type TestApp } from '../support/test-app.js';

const VALIDATION = (message: string) => ({ error: `Validation failed: ${message}` });

describe.each(ENGINES)('admin API on %s', (engine) => {
  let t: TestApp;

  beforeEach(async () => {
    t = await createTestApp(engine);
    await t.account('1');
    await t.account('2');
    await t.account('3');
    await t.status('10', { author: '1' });
  });
  afterEach(() => t.close());

  const list = async (token: string, query = '') => {
    const res = await t.client(token, 'GET', `/api/v1/notifications${query}`);
    expect(res.statusCode).toBe(200);
    return res.json() as Record<string, any>[];
  };
  const post = (event: Record<string, unknown>) => t.admin('POST', '/notifications', event);

  describe('authentication', () => {
    const endpoints: [string, string, unknown][] = [
      ['PUT', '/accounts/9', accountJson('9')],
      ['DELETE', '/accounts/1', undefined],
      ['PUT', '/statuses/99', statusJson('99', '1')],
      ['DELETE', '/statuses/10', undefined],
      ['POST', '/tokens', { account_id: '1', scopes: 'read' }],
      ['DELETE', '/tokens/1', undefined],
      ['POST', '/notifications', { account_id: '1', type: 'follow', from_account_id: '2' }],
      ['POST', '/notifications/batch', { events: [{ account_id: '1', type: 'follow', from_account_id: '2' }] }],
    ];
    const badHeaders: [string, Record<string, string>][] = [
      ['no header', {}],
      ['a wrong token', { authorization: 'Bearer not-the-admin-token' }],
      ['the token with a suffix', { authorization: `Bearer ${ADMIN_TOKEN}x` }],
      ['a prefix of the token', { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
      ['another scheme', { authorization: `Basic ${ADMIN_TOKEN}` }],
      ['an empty bearer', { authorization: 'Bearer ' }],
    ];

    it.each(endpoints)('%s %s answers 401 without the admin token and changes nothing', async (method, url, body) => {
      await t.token('1', 'read');
      const before = await snapshotStore(t.store);
      for (const [, headers] of badHeaders) {
        const res = await t.app.inject({ method: method as 'GET', url: `/api/admin/v1${url}`, headers, payload: body as object });
        expect(res.statusCode).toBe(401);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(res.json()).toEqual({ error: 'The access token is invalid' });
      }
      expect(await snapshotStore(t.store)).toEqual(before);
    });

    it('does not accept a client access token as the admin token', async () => {
      const token = await t.token('1', 'read write push admin:read admin:write');
      const res = await t.app.inject({
        method: 'PUT',
        url: '/api/admin/v1/accounts/9',
        headers: { authorization: `Bearer ${token}` },
        payload: accountJson('9'),
      });
      expect(res.statusCode).toBe(401);
    });

    it('carries no rate-limit headers, and is never limited, even when client limits are on', async () => {
      const limited = await createTestApp(engine, { rateLimits: { perToken: 1, perAccount: 1, paginatedPerAccount: 1, perIp: 1 } });
      try {
        for (let i = 0; i < 5; i++) {
          const res = await limited.admin('PUT', `/accounts/${i}`, accountJson(String(i)));
          expect(res.statusCode).toBe(200);
          expect(Object.keys(res.headers).filter((h) => h.toLowerCase().startsWith('x-ratelimit'))).toEqual([]);
        }
        const unauthorised = await limited.app.inject({ method: 'DELETE', url: '/api/admin/v1/accounts/1' });
        expect(unauthorised.statusCode).toBe(401);
        expect(unauthorised.headers['x-ratelimit-limit']).toBeUndefined();
        // The client API of the same app is limited, so the limiter is really on.
        const client = await limited.client(undefined, 'GET', '/api/v1/instance');
        expect(client.headers['x-ratelimit-limit']).toBe('1');
      } finally {
        await limited.close();
      }
    });
  });

  describe('accounts', () => {
    it('upserts an account and answers it with locale and suspended, valid as an Account', async () => {
      const res = await t.admin('PUT', '/accounts/42', { ...accountJson('ignored'), locale: 'de', suspended: false });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ id: '42', username: 'userignored', locale: 'de', suspended: false });
      expect(schemaErrors('Account', body)).toEqual([]);
    });

    it('fills what a minimal Account leaves out, so clients can parse it', async () => {
      const res = await t.admin('PUT', '/accounts/abc_1', { username: 'min', acct: 'min@remote.test' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: 'abc_1', username: 'min', acct: 'min@remote.test', locale: null, suspended: false });
      expect(schemaErrors('Account', res.json())).toEqual([]);
    });

    it('replaces the account everywhere it appears on a later upsert', async () => {
      const bob = await t.token('1', 'read');
      await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
      await t.account('2', { display_name: 'Renamed' });
      expect((await list(bob))[0].account.display_name).toBe('Renamed');
    });

    it.each([
      ['a body that is not an object', [1, 2], 'Account must be a JSON object'],
      ['no username', { acct: 'x' }, "Username can't be blank"],
      ['an empty acct', { username: 'x', acct: '' }, "Acct can't be blank"],
      ['a number for username', { username: 5, acct: 'x' }, "Username can't be blank"],
      ['a string for suspended', { username: 'x', acct: 'x', suspended: 'yes' }, 'suspended must be a boolean'],
      ['an object for locale', { username: 'x', acct: 'x', locale: {} }, 'locale must be a language tag'],
      ['a bad created_at', { username: 'x', acct: 'x', created_at: 'yesterday' }, 'created_at must be an ISO 8601 time'],
    ])('answers 422 for %s and stores nothing', async (_name, body, message) => {
      const before = await snapshotStore(t.store);
      const res = await t.admin('PUT', '/accounts/1', body);
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual(VALIDATION(message));
      expect(await snapshotStore(t.store)).toEqual(before);
    });

    it('answers 404 for an id longer than 255 characters', async () => {
      const res = await t.admin('PUT', `/accounts/${'a'.repeat(256)}`, accountJson('x'));
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: 'Record not found' });
    });

    it('deletes an account with its notifications, tokens and markers; what it caused is hidden', async () => {
      const bob = await t.token('1', 'read write');
      const alice = await t.token('2', 'read write');
      await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
      await t.notify({ account_id: '1', type: 'follow', from_account_id: '3' });
      await t.notify({ account_id: '2', type: 'follow', from_account_id: '3' });
      await t.notify({ account_id: '2', type: 'favourite', from_account_id: '1', status_id: '10', idempotency_key: 'k' });
      expect((await t.client(alice, 'POST', '/api/v1/markers', { notifications: { last_read_id: '1' } })).statusCode).toBe(200);

      const res = await t.admin('DELETE', '/accounts/2');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({});

      const rows = await t.store.db.selectFrom('notifications').select(['account_id', 'from_account_id']).execute();
      expect(rows.filter((r) => r.account_id === '2')).toEqual([]);
      expect(await t.store.db.selectFrom('markers').selectAll().where('account_id', '=', '2').execute()).toEqual([]);
      expect(await t.store.db.selectFrom('tokens').selectAll().where('account_id', '=', '2').execute()).toEqual([]);
      expect(await t.store.db.selectFrom('idempotency_keys').selectAll().where('account_id', '=', '2').execute()).toEqual([]);
      const denied = await t.client(alice, 'GET', '/api/v1/notifications');
      expect(denied.statusCode).toBe(401);
      expect(denied.json()).toEqual({ error: 'The access token is invalid' });
      // Bob's notification from the removed account is hidden; the one from 3 stays.
      expect((await list(bob)).map((n) => n.account.id)).toEqual(['3']);
      expect((await t.client(bob, 'GET', '/api/v1/notifications/unread_count')).json()).toEqual({ count: 1 });
    });

    it('answers 200 {} when deleting an account that does not exist', async () => {
      const before = await snapshotStore(t.store);
      const res = await t.admin('DELETE', '/accounts/nobody');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({});
      expect(await snapshotStore(t.store)).toEqual(before);
    });
  });

  // Regression: PostgreSQL cannot store NUL in text; a NUL in an id, a name or a key answered 500 there.
  describe('null bytes', () => {
    const NUL = { error: 'Null bytes are not allowed in parameters' };
    it.each([
      ['PUT', '/accounts/a%00b', accountJson('x')],
      ['PUT', '/accounts/9', { username: 'a\u0000b', acct: 'x' }],
      ['DELETE', '/statuses/%00', undefined],
      ['POST', '/tokens', { account_id: '1', scopes: 'read', client_name: 'E\u0000lk' }],
      ['POST', '/notifications', { account_id: '1\u0000', type: 'follow', from_account_id: '2' }],
      ['POST', '/notifications', { account_id: '1', type: 'follow', from_account_id: '2', idempotency_key: '\u0000' }],
    ] as const)('answers 400 for %s %s with a NUL, and changes nothing', async (method, url, body) => {
      const before = await snapshotStore(t.store);
      const res = await t.admin(method, url, body);
      expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 400, body: NUL });
      expect(await snapshotStore(t.store)).toEqual(before);
    });

    it('answers 400 for a NUL in a client query, form or marker', async () => {
      const bob = await t.token('1', 'read write');
      const query = await t.client(bob, 'GET', '/api/v1/notifications?account_id=2%00');
      const marker = await t.client(bob, 'POST', '/api/v1/markers', { notifications: { last_read_id: '5\u0000' } });
      const form = await t.app.inject({
        method: 'POST',
        url: '/api/v1/markers',
        headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'notifications[last_read_id]=5%00',
      });
      for (const res of [query, marker, form]) expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 400, body: NUL });
    });
  });

  describe('statuses', () => {
    it('stores a Status as given, with the id of the path', async () => {
      const res = await t.admin('PUT', '/statuses/20', { ...statusJson('other', '1'), custom_field: 7 });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.json()).toMatchObject({ id: '20', custom_field: 7, content: '<p>status other</p>' });
      expect(schemaErrors('Status', res.json())).toEqual([]);
    });

    it('replaces a status everywhere it appears when upserted again', async () => {
      const bob = await t.token('1', 'read');
      const alice = await t.token('2', 'read');
      await t.notify({ account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' });
      await t.notify({ account_id: '1', type: 'reblog', from_account_id: '3', status_id: '10' });
      await t.notify({ account_id: '2', type: 'mention', from_account_id: '1', status_id: '10' });
      await t.status('10', { author: '1', content: '<p>edited</p>' });
      const mine = await list(bob);
      expect(mine.map((n) => n.status.content)).toEqual(['<p>edited</p>', '<p>edited</p>']);
      expect((await list(alice))[0].status.content).toBe('<p>edited</p>');
    });

    it.each([
      ['a body that is not an object', ['text'], 'Status must be a JSON object'],
      ['a number for visibility', { visibility: 3 }, 'visibility must be a string'],
      ['a string for account', { account: 'me' }, 'account must be an object'],
    ])('answers 422 for %s and stores nothing', async (_name, body, message) => {
      const before = await snapshotStore(t.store);
      const res = await t.admin('PUT', '/statuses/10', body);
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual(VALIDATION(message));
      expect(await snapshotStore(t.store)).toEqual(before);
    });

    it('deletes a status and the notifications whose payload it is, for every recipient', async () => {
      await t.status('11', { author: '1' });
      const bob = await t.token('1', 'read');
      const alice = await t.token('2', 'read');
      await t.notify({ account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' });
      const keep = await t.notify({ account_id: '1', type: 'favourite', from_account_id: '2', status_id: '11' });
      const follow = await t.notify({ account_id: '1', type: 'follow', from_account_id: '3' });
      await t.notify({ account_id: '2', type: 'mention', from_account_id: '1', status_id: '10' });

      const res = await t.admin('DELETE', '/statuses/10');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({});
      expect((await list(bob)).map((n) => n.id)).toEqual([follow.id, keep.id]);
      expect(await list(alice)).toEqual([]);
      expect(await t.store.db.selectFrom('statuses').select('id').where('id', '=', '10').execute()).toEqual([]);
      // An event about the deleted status is now refused.
      const again = await post({ account_id: '1', type: 'favourite', from_account_id: '3', status_id: '10' });
      expect(again.statusCode).toBe(422);
      expect(again.json()).toEqual(VALIDATION('unknown status'));
    });

    it('answers 200 {} when deleting a status that does not exist', async () => {
      const res = await t.admin('DELETE', '/statuses/404');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({});
    });
  });

  describe('tokens', () => {
    it('mints a token shown once, stored only as a hash, shaped like an OAuth Token', async () => {
      const res = await t.admin('POST', '/tokens', { account_id: '1', scopes: 'read write', client_name: 'Elk' });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(Object.keys(body)).toEqual(['id', 'access_token', 'token_type', 'scope', 'created_at']);
      expect(body).toMatchObject({ id: expect.any(String), token_type: 'Bearer', scope: 'read write', created_at: START_TIME / 1000 });
      expect(schemaErrors('Token', body)).toEqual([]);
      const stored = await t.store.db.selectFrom('tokens').selectAll().where('id', '=', Number(body.id)).executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain(body.access_token);
      expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect((await t.client(body.access_token, 'GET', '/api/v1/notifications')).statusCode).toBe(200);
    });

    it.each([
      ['read read  write read read:notifications', 'read write read:notifications'],
      [' push ', 'push'],
      [['write', 'push', 'write'], 'write push'],
    ])('echoes scopes %j space-separated without duplicates', async (scopes, echoed) => {
      const res = await t.admin('POST', '/tokens', { account_id: '1', scopes });
      expect(res.statusCode).toBe(200);
      expect(res.json().scope).toBe(echoed);
    });

    it.each([
      ['an unknown account', { account_id: 'ghost', scopes: 'read' }, 'unknown account'],
      ['an object as account id', { account_id: { id: '1' }, scopes: 'read' }, 'unknown account'],
      ['blank scopes', { account_id: '1', scopes: '  ' }, "scopes can't be blank"],
      ['no scopes', { account_id: '1' }, 'scopes must be a string'],
      ['a number as scopes', { account_id: '1', scopes: 7 }, 'scopes must be a string'],
      ['an unknown scope', { account_id: '1', scopes: 'read everything' }, "unknown scope 'everything'"],
      ['a long client name', { account_id: '1', scopes: 'read', client_name: 'x'.repeat(256) }, 'client_name must be a string of at most 255 characters'],
      ['a body that is not an object', ['read'], 'body must be a JSON object'],
    ])('answers 422 for %s and mints nothing', async (_name, body, message) => {
      const before = await countRows(t.store, 'tokens');
      const res = await t.admin('POST', '/tokens', body);
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual(VALIDATION(message));
      expect(await countRows(t.store, 'tokens')).toBe(before);
    });

    it('mints an app-only token without account_id, which user endpoints refuse with 422', async () => {
      const res = await t.admin('POST', '/tokens', { scopes: 'read write' });
      expect(res.statusCode).toBe(200);
      const app = res.json().access_token;
      for (const [method, url] of [
        ['GET', '/api/v1/notifications'],
        ['GET', '/api/v1/notifications/unread_count'],
        ['POST', '/api/v1/notifications/clear'],
        ['GET', '/api/v1/markers?timeline[]=notifications'],
      ] as const) {
        const r = await t.client(app, method, url);
        expect(r.statusCode).toBe(422);
        expect(r.json()).toEqual({ error: 'This method requires an authenticated user' });
      }
      // Public endpoints still answer it.
      expect((await t.client(app, 'GET', '/api/v2/instance')).statusCode).toBe(200);
    });

    it('revokes a token: it answers 401 from then on, and a second revoke is 404', async () => {
      const res = await t.admin('POST', '/tokens', { account_id: '1', scopes: 'read' });
      const { id, access_token: token } = res.json();
      const other = await t.token('1', 'read');
      expect((await t.client(token, 'GET', '/api/v1/notifications')).statusCode).toBe(200);
      const revoked = await t.admin('DELETE', `/tokens/${id}`);
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json()).toEqual({});
      const after = await t.client(token, 'GET', '/api/v1/notifications');
      expect(after.statusCode).toBe(401);
      expect(after.json()).toEqual({ error: 'The access token is invalid' });
      expect((await t.client(other, 'GET', '/api/v1/notifications')).statusCode).toBe(200);
      const again = await t.admin('DELETE', `/tokens/${id}`);
      expect(again.statusCode).toBe(404);
      expect(again.json()).toEqual({ error: 'Record not found' });
    });

    it.each(['abc', '-1', '1.5', '9999999', '99999999999999999999'])('answers 404 when revoking token %s', async (id) => {
      const res = await t.admin('DELETE', `/tokens/${id}`);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: 'Record not found' });
    });
  });

  describe('one notification event', () => {
    it('stores it and answers the Notification, valid against the OpenAPI schema', async () => {
      const res = await post({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '10' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = res.json();
      expect(body).toMatchObject({ id: expect.stringMatching(/^\d+$/), type: 'mention', account: { id: '2' }, status: { id: '10' } });
      expect(body.created_at).toBe(new Date(START_TIME).toISOString());
      expect(schemaErrors('Notification', body)).toEqual([]);
    });

    it.each([
      ['admin.report', { report: { id: 'r1', category: 'spam' } }, 'report'],
      ['severed_relationships', { event: { id: 'e1', type: 'domain_block' } }, 'event'],
      ['moderation_warning', { moderation_warning: { id: 'w1', action: 'none' } }, 'moderation_warning'],
      ['added_to_collection', { collection: { id: 'c1' } }, 'collection'],
    ])('keeps the %s payload as given', async (type, payload, key) => {
      const from = type === 'severed_relationships' || type === 'moderation_warning' ? {} : { from_account_id: '2' };
      const res = await post({ account_id: '1', type, ...from, ...payload });
      expect(res.statusCode).toBe(200);
      expect(res.json()[key]).toEqual((payload as Record<string, unknown>)[key]);
    });

    it('drops a self-notification with reason "self", and stores nothing', async () => {
      const res = await post({ account_id: '1', type: 'favourite', from_account_id: '1', status_id: '10' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ dropped: true, reason: 'self' });
      expect(await countRows(t.store, 'notifications')).toBe(0);
    });

    it.each([
      ['poll', { from_account_id: '1', status_id: '10' }],
      ['severed_relationships', { event: { id: 'e1' } }],
      ['moderation_warning', { moderation_warning: { id: 'w1' } }],
      ['annual_report', { annual_report: { year: 2026 } }],
      ['annual_report', {}],
    ])('keeps a self-notification of type %s, whose actor defaults to the recipient', async (type, extra) => {
      const res = await post({ account_id: '1', type, ...extra });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ type, account: { id: '1' } });
    });

    it('returns the existing notification for a second identical event', async () => {
      const first = await t.notify({ account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' });
      t.clock.now += 60_000;
      const second = await t.notify({ account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' });
      expect(second).toEqual(first);
      const follow1 = await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
      const follow2 = await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
      expect(follow2.id).toBe(follow1.id);
      // A different actor or status is a different event.
      const other = await t.notify({ account_id: '1', type: 'favourite', from_account_id: '3', status_id: '10' });
      expect(other.id).not.toBe(first.id);
      expect(await countRows(t.store, 'notifications')).toBe(3);
    });

    it.each([
      ['update', { status_id: '10' }],
      ['quoted_update', { status_id: '10' }],
      ['collection_update', { collection: { id: 'c9' } }],
    ])('replaces an older %s notification for the same status with the new one', async (type, payload) => {
      const bob = await t.token('1', 'read');
      const first = await t.notify({ account_id: '1', type, from_account_id: '2', ...payload });
      t.clock.now += 60_000;
      const second = await t.notify({ account_id: '1', type, from_account_id: '3', ...payload });
      expect(Number(second.id)).toBeGreaterThan(Number(first.id));
      const ids = (await list(bob)).map((n) => n.id);
      expect(ids).toEqual([second.id]);
    });

    it('returns the first result for a repeated idempotency_key, even with a different body', async () => {
      const first = await t.notify({ account_id: '1', type: 'follow', from_account_id: '2', idempotency_key: 'evt-1' });
      const repeat = await t.notify({ account_id: '1', type: 'mention', from_account_id: '3', status_id: '10', idempotency_key: 'evt-1' });
      expect(repeat).toEqual(first);
      expect(await countRows(t.store, 'notifications')).toBe(1);
      // A dropped first result is repeated too.
      expect(await t.notify({ account_id: '1', type: 'follow', from_account_id: '1', idempotency_key: 'evt-2' })).toEqual({
        dropped: true,
        reason: 'self',
      });
      expect(await t.notify({ account_id: '1', type: 'follow', from_account_id: '2', idempotency_key: 'evt-2' })).toEqual({
        dropped: true,
        reason: 'self',
      });
    });

    // Regression: on PostgreSQL concurrent repeats raced past the checks: the idempotency key insert hit
    // its primary key (500), and identical events were stored several times.
    it('answers concurrent repeats of one idempotency_key with one result, never a 500', async () => {
      const event = { account_id: '1', type: 'follow', from_account_id: '2', idempotency_key: 'retry-me' };
      const answers = await Promise.all(Array.from({ length: 8 }, () => post(event)));
      expect(answers.map((r) => r.statusCode)).toEqual(Array(8).fill(200));
      expect(new Set(answers.map((r) => r.json().id)).size).toBe(1);
      expect(await countRows(t.store, 'notifications')).toBe(1);
    });

    it('stores concurrent identical events once', async () => {
      const event = { account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' };
      const answers = await Promise.all([
        ...Array.from({ length: 6 }, () => post(event)),
        t.admin('POST', '/notifications/batch', { events: [event, { account_id: '2', type: 'follow', from_account_id: '1' }] }),
      ]);
      expect(answers.map((r) => r.statusCode)).toEqual(Array(7).fill(200));
      const ids = new Set([...answers.slice(0, 6).map((r) => r.json().id), answers[6].json().results[0].id]);
      expect(ids.size).toBe(1);
      expect(await countRows(t.store, 'notifications')).toBe(2);
    });

    it('creates a new notification for the same event after the first was dismissed or cleared', async () => {
      const bob = await t.token('1', 'write');
      const event = { account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' };
      const first = await t.notify(event);
      expect((await t.client(bob, 'POST', `/api/v1/notifications/${first.id}/dismiss`)).statusCode).toBe(200);
      const second = await t.notify(event);
      expect(second.id).not.toBe(first.id);
      expect((await t.client(bob, 'POST', '/api/v1/notifications/clear')).statusCode).toBe(200);
      const third = await t.notify(event);
      expect([first.id, second.id]).not.toContain(third.id);
      expect(await countRows(t.store, 'notifications')).toBe(1);
    });

    it('accepts created_at up to 5 minutes ahead and refuses it beyond', async () => {
      const soon = new Date(START_TIME + 4 * 60_000).toISOString();
      const ok = await post({ account_id: '1', type: 'follow', from_account_id: '2', created_at: soon });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().created_at).toBe(soon);
      const late = new Date(START_TIME + 5 * 60_000 + 1000).toISOString();
      const res = await post({ account_id: '1', type: 'follow', from_account_id: '3', created_at: late });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual(VALIDATION('created_at is in the future'));
    });

    it.each([
      ['an unknown recipient', { account_id: 'ghost', type: 'follow', from_account_id: '2' }, 'unknown account'],
      ['an unknown actor', { account_id: '1', type: 'follow', from_account_id: 'ghost' }, 'unknown from_account'],
      ['an unknown status', { account_id: '1', type: 'favourite', from_account_id: '2', status_id: '404' }, 'unknown status'],
      ['an unknown type', { account_id: '1', type: 'poke', from_account_id: '2' }, "unknown type 'poke'"],
      ['no type', { account_id: '1', from_account_id: '2' }, 'type is required'],
      ['no recipient', { type: 'follow', from_account_id: '2' }, 'account_id is required'],
      ['no actor', { account_id: '1', type: 'follow' }, 'from_account_id is required'],
      ['a favourite without status', { account_id: '1', type: 'favourite', from_account_id: '2' }, 'status_id is required for favourite'],
      ['a report without report', { account_id: '1', type: 'admin.report', from_account_id: '2' }, 'report is required for admin.report'],
      ['a severance without event', { account_id: '1', type: 'severed_relationships' }, 'event is required for severed_relationships'],
      [
        'a warning without payload',
        { account_id: '1', type: 'moderation_warning' },
        'moderation_warning is required for moderation_warning',
      ],
      [
        'a collection event without collection',
        { account_id: '1', type: 'added_to_collection', from_account_id: '2' },
        'collection is required for added_to_collection',
      ],
      ['a string as report', { account_id: '1', type: 'admin.report', from_account_id: '2', report: 'r1' }, 'report must be an object'],
      [
        'a bad relationship',
        { account_id: '1', type: 'follow', from_account_id: '2', relationship: { following: 'yes' } },
        'relationship.following must be a boolean',
      ],
      ['a bad created_at', { account_id: '1', type: 'follow', from_account_id: '2', created_at: 'now' }, 'created_at must be an ISO 8601 time'],
      [
        'an empty idempotency_key',
        { account_id: '1', type: 'follow', from_account_id: '2', idempotency_key: '' },
        'idempotency_key must be a string of 1 to 255 characters',
      ],
    ])('answers 422 for %s and stores nothing', async (_name, event, message) => {
      const before = await snapshotStore(t.store);
      const res = await post(event);
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual(VALIDATION(message));
      expect(await snapshotStore(t.store)).toEqual(before);
    });
  });

  describe('batches', () => {
    it('answers results in order, dropped ones in their place', async () => {
      const res = await t.admin('POST', '/notifications/batch', {
        events: [
          { account_id: '1', type: 'follow', from_account_id: '2' },
          { account_id: '2', type: 'favourite', from_account_id: '2', status_id: '10' },
          { account_id: '2', type: 'mention', from_account_id: '1', status_id: '10' },
          { account_id: '3', type: 'mention', from_account_id: '1', status_id: '10' },
        ],
      });
      expect(res.statusCode).toBe(200);
      const { results } = res.json();
      expect(results).toHaveLength(4);
      expect(results[0]).toMatchObject({ type: 'follow', account: { id: '2' } });
      expect(results[1]).toEqual({ dropped: true, reason: 'self' });
      expect(results[2]).toMatchObject({ type: 'mention', account: { id: '1' } });
      expect(results[3]).toMatchObject({ type: 'mention', account: { id: '1' } });
      expect(Number(results[2].id)).toBeLessThan(Number(results[3].id));
      for (const r of [results[0], results[2], results[3]]) expect(schemaErrors('Notification', r)).toEqual([]);
      expect(await countRows(t.store, 'notifications')).toBe(3);
    });

    it('de-duplicates within one batch', async () => {
      const event = { account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' };
      const res = await t.admin('POST', '/notifications/batch', { events: [event, event] });
      const { results } = res.json();
      expect(results[1].id).toBe(results[0].id);
      expect(await countRows(t.store, 'notifications')).toBe(1);
    });

    it('accepts 1000 events and refuses 1001 with 422', async () => {
      const many = (n: number) => Array.from({ length: n }, (_, i) => ({ account_id: '1', type: 'follow', from_account_id: '2', idempotency_key: `k${i}` }));
      const over = await t.admin('POST', '/notifications/batch', { events: many(1001) });
      expect(over.statusCode).toBe(422);
      expect(over.json()).toEqual(VALIDATION('events: at most 1000 events in one batch'));
      expect(await countRows(t.store, 'notifications')).toBe(0);
      const ok = await t.admin('POST', '/notifications/batch', { events: many(1000) });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().results).toHaveLength(1000);
    });

    it.each([
      ['a shape error', { account_id: '1', type: 'favourite', from_account_id: '2' }, 'events[3]: status_id is required for favourite'],
      ['an unknown account', { account_id: 'ghost', type: 'follow', from_account_id: '2' }, 'events[3]: unknown account'],
      ['an unknown status', { account_id: '1', type: 'favourite', from_account_id: '2', status_id: '404' }, 'events[3]: unknown status'],
      ['a non-object', 'follow', 'events[3]: event must be a JSON object'],
    ])('fails the whole batch for %s at index 3, naming it, with nothing stored', async (_name, bad, message) => {
      const good = [
        { account_id: '1', type: 'follow', from_account_id: '2', idempotency_key: 'a' },
        { account_id: '1', type: 'mention', from_account_id: '3', status_id: '10' },
        { account_id: '2', type: 'follow', from_account_id: '3' },
      ];
      const before = await snapshotStore(t.store);
      const res = await t.admin('POST', '/notifications/batch', { events: [...good, bad, good[0]] });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual(VALIDATION(message));
      expect(await snapshotStore(t.store)).toEqual(before);
    });

    it.each([
      ['no events', {}],
      ['events as an object', { events: { 0: {} } }],
      ['a body that is an array', [{ account_id: '1', type: 'follow', from_account_id: '2' }]],
    ])('answers 422 for %s', async (_name, body) => {
      const res = await t.admin('POST', '/notifications/batch', body);
      expect(res.statusCode).toBe(422);
      expect(res.json()).toEqual(VALIDATION('events must be an array'));
    });

    it('answers {"results":[]} for an empty batch', async () => {
      const res = await t.admin('POST', '/notifications/batch', { events: [] });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ results: [] });
    });
  });
});
