// SPEC §1.1: every client endpoint × every kind of token, with the exact error bodies; and ownership: a token
// of one account never sees, counts or dismisses another's notifications.
import { createECDH, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotStore } from '../support/snapshot.js';
import { createTestApp, ENGINES, type TestApp } from '../support/test-app.js';

const INVALID = { error: 'The access token is invalid' };
const OUTSIDE = { error: 'This action is outside the authorized scopes' };
const USER_REQUIRED = { error: 'This method requires an authenticated user' };

/** Token kinds, in the column order of the matrix below. */
const SCOPED = [
  'read',
  'read:notifications',
  'write',
  'write:notifications',
  'push',
  'read:statuses',
  'write:statuses',
  'read:accounts',
  'profile',
] as const;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Prepared {
  readonly url: string;
  readonly body?: unknown;
}

interface Row {
  readonly method: Method;
  /** The route as registered, to skip endpoints other engineers have not finished. */
  readonly route: string;
  /** Answers per SCOPED column: 'ok' for the endpoint's success, or 403. */
  readonly matrix: string;
  /** Status when the scope is accepted; 200 unless the prepared request names nothing that exists. */
  readonly okStatus?: number;
  /** Makes a request that succeeds for account 1 with the given token. */
  prepare(t: TestApp, token: string): Promise<Prepared>;
}

/** A notification of account 1 that exists right now (a dismissed one is created again). */
async function freshNotification(t: TestApp): Promise<string> {
  const n = await t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '10' });
  return n.id as string;
}

function pushBody(): Record<string, unknown> {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    subscription: {
      endpoint: `https://push.example.net/wpush/${randomBytes(8).toString('hex')}`,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
    },
    data: { alerts: { mention: true }, policy: 'all' },
  };
}

const READ = 'ok ok 403 403 403 403 403 403 403';
const WRITE = '403 403 ok ok 403 403 403 403 403';
const PUSH = '403 403 403 403 ok 403 403 403 403';

const ROWS: Row[] = [
  { method: 'GET', route: '/api/v1/notifications', matrix: READ, prepare: async () => ({ url: '/api/v1/notifications' }) },
  {
    method: 'GET',
    route: '/api/v1/notifications/:id',
    matrix: READ,
    prepare: async (t) => ({ url: `/api/v1/notifications/${await freshNotification(t)}` }),
  },
  {
    method: 'GET',
    route: '/api/v1/notifications/unread_count',
    matrix: READ,
    prepare: async () => ({ url: '/api/v1/notifications/unread_count' }),
  },
  { method: 'POST', route: '/api/v1/notifications/clear', matrix: WRITE, prepare: async () => ({ url: '/api/v1/notifications/clear' }) },
  {
    method: 'POST',
    route: '/api/v1/notifications/:id/dismiss',
    matrix: WRITE,
    prepare: async (t) => ({ url: `/api/v1/notifications/${await freshNotification(t)}/dismiss` }),
  },
  {
    method: 'POST',
    route: '/api/v1/notifications/dismiss',
    matrix: WRITE,
    prepare: async (t) => ({ url: '/api/v1/notifications/dismiss', body: { id: await freshNotification(t) } }),
  },
  {
    method: 'GET',
    route: '/api/v1/markers',
    matrix: 'ok 403 403 403 403 ok 403 403 403',
    prepare: async () => ({ url: '/api/v1/markers?timeline[]=notifications' }),
  },
  {
    method: 'POST',
    route: '/api/v1/markers',
    matrix: '403 403 ok 403 403 403 ok 403 403',
    prepare: async () => ({ url: '/api/v1/markers', body: { notifications: { last_read_id: '1' } } }),
  },
  {
    method: 'GET',
    route: '/api/v1/accounts/verify_credentials',
    matrix: 'ok 403 403 403 403 403 403 ok ok',
    prepare: async () => ({ url: '/api/v1/accounts/verify_credentials' }),
  },
  { method: 'GET', route: '/api/v2/notifications', matrix: READ, prepare: async () => ({ url: '/api/v2/notifications' }) },
  {
    method: 'GET',
    route: '/api/v2/notifications/unread_count',
    matrix: READ,
    prepare: async () => ({ url: '/api/v2/notifications/unread_count' }),
  },
  {
    method: 'GET',
    route: '/api/v2/notifications/:group_key',
    matrix: READ,
    prepare: async (t) => ({ url: `/api/v2/notifications/ungrouped-${await freshNotification(t)}` }),
  },
  {
    method: 'GET',
    route: '/api/v2/notifications/:group_key/accounts',
    matrix: READ,
    prepare: async (t) => ({ url: `/api/v2/notifications/ungrouped-${await freshNotification(t)}/accounts` }),
  },
  {
    method: 'POST',
    route: '/api/v2/notifications/:group_key/dismiss',
    matrix: WRITE,
    prepare: async (t) => ({ url: `/api/v2/notifications/ungrouped-${await freshNotification(t)}/dismiss` }),
  },
  // Push subscriptions: `push` only, neither read nor write implies it (SPEC §1.1, §8).
  { method: 'POST', route: '/api/v1/push/subscription', matrix: PUSH, prepare: async () => ({ url: '/api/v1/push/subscription', body: pushBody() }) },
  {
    method: 'GET',
    route: '/api/v1/push/subscription',
    matrix: PUSH,
    prepare: async (t, token) => {
      await t.client(token, 'POST', '/api/v1/push/subscription', pushBody());
      return { url: '/api/v1/push/subscription' };
    },
  },
  {
    method: 'PUT',
    route: '/api/v1/push/subscription',
    matrix: PUSH,
    prepare: async (t, token) => {
      await t.client(token, 'POST', '/api/v1/push/subscription', pushBody());
      return { url: '/api/v1/push/subscription', body: { data: { alerts: { follow: true } } } };
    },
  },
  { method: 'DELETE', route: '/api/v1/push/subscription', matrix: PUSH, prepare: async () => ({ url: '/api/v1/push/subscription' }) },
  // Filtering (SPEC §7). Request ids here name nothing, so an accepted scope answers 404.
  { method: 'GET', route: '/api/v2/notifications/policy', matrix: READ, prepare: async () => ({ url: '/api/v2/notifications/policy' }) },
  {
    method: 'PUT',
    route: '/api/v2/notifications/policy',
    matrix: WRITE,
    prepare: async () => ({ url: '/api/v2/notifications/policy', body: { for_bots: 'filter' } }),
  },
  {
    method: 'PATCH',
    route: '/api/v2/notifications/policy',
    matrix: WRITE,
    prepare: async () => ({ url: '/api/v2/notifications/policy', body: { for_bots: 'accept' } }),
  },
  { method: 'GET', route: '/api/v1/notifications/policy', matrix: READ, prepare: async () => ({ url: '/api/v1/notifications/policy' }) },
  {
    method: 'PUT',
    route: '/api/v1/notifications/policy',
    matrix: WRITE,
    prepare: async () => ({ url: '/api/v1/notifications/policy', body: { filter_not_following: false } }),
  },
  {
    method: 'GET',
    route: '/api/v1/notifications/requests',
    matrix: READ,
    prepare: async () => ({ url: '/api/v1/notifications/requests' }),
  },
  {
    method: 'GET',
    route: '/api/v1/notifications/requests/merged',
    matrix: READ,
    prepare: async () => ({ url: '/api/v1/notifications/requests/merged' }),
  },
  {
    method: 'GET',
    route: '/api/v1/notifications/requests/:id',
    matrix: READ,
    okStatus: 404,
    prepare: async () => ({ url: '/api/v1/notifications/requests/999999' }),
  },
  {
    method: 'POST',
    route: '/api/v1/notifications/requests/:id/accept',
    matrix: WRITE,
    okStatus: 404,
    prepare: async () => ({ url: '/api/v1/notifications/requests/999999/accept' }),
  },
  {
    method: 'POST',
    route: '/api/v1/notifications/requests/:id/dismiss',
    matrix: WRITE,
    okStatus: 404,
    prepare: async () => ({ url: '/api/v1/notifications/requests/999999/dismiss' }),
  },
  {
    method: 'POST',
    route: '/api/v1/notifications/requests/accept',
    matrix: WRITE,
    prepare: async () => ({ url: '/api/v1/notifications/requests/accept', body: { id: ['999999'] } }),
  },
  {
    method: 'POST',
    route: '/api/v1/notifications/requests/dismiss',
    matrix: WRITE,
    prepare: async () => ({ url: '/api/v1/notifications/requests/dismiss', body: { id: ['999999'] } }),
  },
];

interface Cell {
  readonly row: Row;
  readonly token: string;
  readonly expected: number;
}

/** The whole table as test cases: SCOPED columns, then the kinds that fail before any scope is read. */
function cells(): [string, Cell][] {
  const out: [string, Cell][] = [];
  for (const row of ROWS) {
    const answers = row.matrix.split(' ');
    if (answers.length !== SCOPED.length) throw new Error(`matrix of ${row.method} ${row.route} has ${answers.length} columns`);
    SCOPED.forEach((scope, i) => {
      const expected = answers[i] === 'ok' ? (row.okStatus ?? 200) : Number(answers[i]);
      out.push([`${row.method} ${row.route} with a ${scope} token → ${expected}`, { row, token: scope, expected }]);
    });
    out.push([`${row.method} ${row.route} with an app-only token → 422`, { row, token: 'app-only', expected: 422 }]);
    for (const kind of ['no token', 'an unknown token', 'a revoked token']) {
      out.push([`${row.method} ${row.route} with ${kind} → 401`, { row, token: kind, expected: 401 }]);
    }
  }
  return out;
}

describe.each(ENGINES)('scopes on %s', (engine) => {
  let t: TestApp;
  const tokens = new Map<string, string | undefined>();

  beforeAll(async () => {
    t = await createTestApp(engine);
    await t.account('1');
    await t.account('2');
    await t.status('10', { author: '1' });
    for (const scope of SCOPED) tokens.set(scope, await t.token('1', scope));
    tokens.set('app-only', await t.token(null, 'read write push'));
    tokens.set('no token', undefined);
    tokens.set('an unknown token', 'not-a-token-anyone-minted');
    const revoked = await t.admin('POST', '/tokens', { account_id: '1', scopes: 'read write push' });
    expect((await t.admin('DELETE', `/tokens/${revoked.json().id}`)).statusCode).toBe(200);
    tokens.set('a revoked token', revoked.json().access_token);
  });
  afterAll(() => t.close());

  it.for(cells())('%s', async ([, { row, token: kind, expected }], context) => {
    if (!t.app.hasRoute({ method: row.method, url: row.route })) context.skip(`${row.method} ${row.route} is not built yet`);
    const token = tokens.get(kind);
    // Prepare with a token that may do it, so a refused request has something it could have changed.
    const prepared = await row.prepare(t, expected === 200 && token !== undefined ? token : tokens.get('push')!);
    const before = await snapshotStore(t.store);
    const res = await t.client(token, row.method, prepared.url, prepared.body);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect({ status: res.statusCode, body: res.body }).toMatchObject({ status: expected });
    const body = res.json();
    if (expected === 401) expect(body).toEqual(INVALID);
    if (expected === 403) expect(body).toEqual(OUTSIDE);
    if (expected === 422) expect(body).toEqual(USER_REQUIRED);
    if (expected === 404) expect(body).toEqual({ error: 'Record not found' });
    if (expected >= 400) expect(await snapshotStore(t.store)).toEqual(before);
  });

  it.each(['/api/v1/instance', '/api/v2/instance'])('%s is public: any token or none is answered', async (url) => {
    for (const [kind, token] of tokens) {
      const res = await t.client(token, 'GET', url);
      expect({ kind, status: res.statusCode }).toEqual({ kind, status: 200 });
    }
  });

  it('treats a Bearer header case-insensitively but refuses other schemes', async () => {
    const token = tokens.get('read')!;
    const lower = await t.app.inject({ method: 'GET', url: '/api/v1/notifications', headers: { authorization: `bearer ${token}` } });
    expect(lower.statusCode).toBe(200);
    for (const header of [`Basic ${token}`, token, `Bearer ${token} extra`, 'Bearer']) {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/notifications', headers: { authorization: header } });
      expect({ header, status: res.statusCode, body: res.json() }).toEqual({ header, status: 401, body: INVALID });
    }
  });
});

describe.each(ENGINES)('ownership on %s', (engine) => {
  let t: TestApp;
  let alice: string;
  let bobsMention: string;
  let bobsFollow: string;

  beforeAll(async () => {
    t = await createTestApp(engine);
    for (const id of ['1', '2', '3']) await t.account(id);
    await t.status('10', { author: '1' });
    alice = await t.token('2', 'read write');
    await t.notify({ account_id: '2', type: 'follow', from_account_id: '3' });
    bobsMention = (await t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '10' })).id;
    bobsFollow = (await t.notify({ account_id: '1', type: 'follow', from_account_id: '3' })).id;
  });
  afterAll(() => t.close());

  it("never lists or counts another account's notifications, even filtered by actor", async () => {
    const own = (await t.client(alice, 'GET', '/api/v1/notifications')).json();
    expect(own.map((n: { type: string }) => n.type)).toEqual(['follow']);
    expect((await t.client(alice, 'GET', '/api/v1/notifications?account_id=2&include_filtered=true')).json()).toEqual([]);
    expect((await t.client(alice, 'GET', '/api/v1/notifications/unread_count')).json()).toEqual({ count: 1 });
    expect((await t.client(alice, 'GET', '/api/v1/notifications/unread_count?account_id=3')).json()).toEqual({ count: 1 });
    const v2 = (await t.client(alice, 'GET', '/api/v2/notifications')).json();
    expect(v2.notification_groups).toHaveLength(1);
    expect((await t.client(alice, 'GET', '/api/v2/notifications/unread_count')).json()).toEqual({ count: 1 });
  });

  it("answers 404 for another account's notification or group, and changes nothing", async () => {
    const before = await snapshotStore(t.store);
    const requests: [Method, string, unknown?][] = [
      ['GET', `/api/v1/notifications/${bobsMention}`],
      ['POST', `/api/v1/notifications/${bobsMention}/dismiss`],
      ['POST', '/api/v1/notifications/dismiss', { id: bobsMention }],
      ['POST', `/api/v1/notifications/dismiss?id=${bobsFollow}`],
      ['GET', `/api/v2/notifications/ungrouped-${bobsMention}`],
    ];
    for (const [method, url, body] of requests) {
      const res = await t.client(alice, method, url, body);
      expect({ url, status: res.statusCode, body: res.json() }).toEqual({ url, status: 404, body: { error: 'Record not found' } });
    }
    // The accounts of a group are a page of the caller's own notifications, empty here, as in Mastodon.
    const accounts = await t.client(alice, 'GET', `/api/v2/notifications/ungrouped-${bobsMention}/accounts`);
    expect({ status: accounts.statusCode, body: accounts.json() }).toEqual({ status: 200, body: [] });
    expect(await snapshotStore(t.store)).toEqual(before);
  });

  it("does not remove another account's notifications by clearing, dismissing a group or moving a marker", async () => {
    const before = (await t.store.db.selectFrom('notifications').select('id').where('account_id', '=', '1').execute()).length;
    const group = `ungrouped-${bobsMention}`;
    // Dismissing a group answers 200 {} always (SPEC §6), but not for someone else's notifications.
    const dismissed = await t.client(alice, 'POST', `/api/v2/notifications/${group}/dismiss`);
    expect(dismissed.statusCode).toBe(200);
    expect(dismissed.json()).toEqual({});
    expect((await t.client(alice, 'POST', '/api/v1/markers', { notifications: { last_read_id: bobsFollow } })).statusCode).toBe(200);
    expect((await t.client(alice, 'POST', '/api/v1/notifications/clear')).statusCode).toBe(200);
    const after = await t.store.db.selectFrom('notifications').select('id').where('account_id', '=', '1').execute();
    expect(after).toHaveLength(before);
    const bob = await t.token('1', 'read');
    expect((await t.client(bob, 'GET', '/api/v1/notifications/unread_count')).json()).toEqual({ count: 2 });
    expect((await t.client(bob, 'GET', '/api/v1/markers?timeline[]=notifications')).json()).toEqual({});
  });
});
