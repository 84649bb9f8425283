// The foundation's "done when": a widely used client library, used as its own docs show, with a token from the
// admin API, lists, pages through, fetches, dismisses and clears notifications and reads the unread count against
// a real Herald over HTTP. masto.js (v7) is that library: `createRestAPIClient({ url, accessToken })`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestAPIClient, MastoHttpError, type mastodon } from 'masto';
import { accountJson, statusJson } from '../support/fixtures.js';
import { ADMIN_TOKEN, createTestApp, ENGINES, type TestApp } from '../support/test-app.js';
import { freePort } from '../support/free-port.js';

describe.each(ENGINES)('masto.js v1 against Herald over HTTP on %s', (engine) => {
  let t: TestApp;
  let base: string;
  let client: mastodon.rest.Client;
  /** Notification ids of account 1, oldest first. */
  const ids: string[] = [];

  /** The host platform's side, over HTTP as it would call it. */
  async function admin(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${base}/api/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  async function notify(event: Record<string, unknown>): Promise<string> {
    t.clock.now += 1000;
    return (await admin('POST', '/notifications', event)).id as string;
  }

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Link headers are built from the public URL: make it the address the client talks to.
    t = await createTestApp(engine, { env: { HERALD_PUBLIC_URL: base } });
    await t.app.listen({ port, host: '127.0.0.1' });

    for (const id of ['1', '2', '3', '4']) await admin('PUT', `/accounts/${id}`, accountJson(id));
    await admin('PUT', '/statuses/100', statusJson('100', '1'));
    const events = [
      { type: 'follow', from_account_id: '2' },
      { type: 'favourite', from_account_id: '2', status_id: '100' },
      { type: 'mention', from_account_id: '3', status_id: '100' },
      { type: 'reblog', from_account_id: '3', status_id: '100' },
      { type: 'follow', from_account_id: '3' },
      { type: 'favourite', from_account_id: '4', status_id: '100' },
      { type: 'follow', from_account_id: '4' },
    ];
    for (const e of events) ids.push(await notify({ account_id: '1', ...e }));
    // Someone else's, which the client must never see.
    await notify({ account_id: '2', type: 'follow', from_account_id: '3' });

    const { access_token: accessToken } = await admin('POST', '/tokens', { account_id: '1', scopes: 'read write', client_name: 'masto.js' });
    // As masto.js's README shows.
    client = createRestAPIClient({ url: base, accessToken });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('finds its way: instance v1 and v2, and the credentials of the token', async () => {
    const v2 = await client.v2.instance.fetch();
    expect(v2.configuration.urls.streaming).toBe(base.replace('http', 'ws'));
    // Padded, as every subscription's server_key (SPEC §10).
    expect(v2.configuration.vapid.publicKey).toMatch(/^B[A-Za-z0-9_-]{86}=$/);
    const v1 = await client.v1.instance.fetch();
    expect(v1.urls.streamingApi).toBe(base.replace('http', 'ws'));
    const me = await client.v1.accounts.verifyCredentials();
    expect(me).toMatchObject({ id: '1', username: 'user1' });
  });

  it('lists the newest notifications, camel-cased entities with accounts and statuses', async () => {
    const page = await client.v1.notifications.list({ limit: 3 });
    expect(page.map((n) => n.id)).toEqual([ids[6], ids[5], ids[4]]);
    expect(page[0]).toMatchObject({ type: 'follow', account: { id: '4' }, groupKey: expect.stringMatching(/^follow-/) });
    expect(page[1]).toMatchObject({ type: 'favourite', account: { id: '4' }, status: { id: '100' } });
    expect(new Date(page[0].createdAt).getTime()).toBeGreaterThan(new Date(page[2].createdAt).getTime());
  });

  it('pages through everything with the async iterator, following rel="next"', async () => {
    const pages: string[][] = [];
    for await (const page of client.v1.notifications.list({ limit: 3 })) pages.push(page.map((n) => n.id));
    // `next` only on a full page (SPEC §1.6), so the iterator stops after the short one, with no empty request.
    expect(pages).toEqual([
      [ids[6], ids[5], ids[4]],
      [ids[3], ids[2], ids[1]],
      [ids[0]],
    ]);
  });

  it('catches up from a cursor with min_id, walking rel="prev"', async () => {
    const pages: string[][] = [];
    const paginator = client.v1.notifications.list({ limit: 2, minId: ids[1] }).setDirection('prev');
    for await (const page of paginator) {
      pages.push(page.map((n) => n.id));
      if (pages.length > 5) break;
    }
    // `prev` comes with every non-empty page, so the walk ends on the empty page above the newest.
    expect(pages).toEqual([[ids[3], ids[2]], [ids[5], ids[4]], [ids[6]], []]);
  });

  it('filters by types, exclude_types and account_id', async () => {
    expect((await client.v1.notifications.list({ types: ['follow'] })).map((n) => n.id)).toEqual([ids[6], ids[4], ids[0]]);
    expect((await client.v1.notifications.list({ excludeTypes: ['follow', 'favourite'] })).map((n) => n.id)).toEqual([ids[3], ids[2]]);
    expect((await client.v1.notifications.list({ accountId: '3' })).map((n) => n.id)).toEqual([ids[4], ids[3], ids[2]]);
  });

  it('fetches one notification, and gets a 404 MastoHttpError for another account’s', async () => {
    const one = await client.v1.notifications.$select(ids[2]).fetch();
    expect(one).toMatchObject({ id: ids[2], type: 'mention', account: { id: '3' }, status: { id: '100', content: '<p>status 100</p>' } });
    const foreign = String(Number(ids[6]) + 1);
    const error = await client.v1.notifications.$select(foreign).fetch().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MastoHttpError);
    expect(error).toMatchObject({ statusCode: 404, message: 'Record not found' });
  });

  it('reads the unread count, and moves it with the notifications marker', async () => {
    expect(await client.v1.notifications.unreadCount.fetch()).toEqual({ count: 7 });
    expect(await client.v1.notifications.unreadCount.fetch({ types: ['follow'] })).toEqual({ count: 3 });
    expect(await client.v1.notifications.unreadCount.fetch({ limit: 2 })).toEqual({ count: 2 });
    const saved = await client.v1.markers.create({ notifications: { lastReadId: ids[4] } });
    expect(saved.notifications).toMatchObject({ lastReadId: ids[4], version: 0 });
    const read = await client.v1.markers.fetch({ timeline: ['notifications'] });
    expect(read.notifications?.lastReadId).toBe(ids[4]);
    expect(await client.v1.notifications.unreadCount.fetch()).toEqual({ count: 2 });
  });

  it('dismisses one notification, which is then gone', async () => {
    await client.v1.notifications.$select(ids[3]).dismiss();
    const error = await client.v1.notifications.$select(ids[3]).fetch().catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 404 });
    const all = await client.v1.notifications.list({ limit: 40 });
    expect(all.map((n) => n.id)).not.toContain(ids[3]);
    expect(all).toHaveLength(6);
  });

  it('clears every notification of the account, and only of that account', async () => {
    await client.v1.notifications.clear();
    expect(await client.v1.notifications.list()).toEqual([]);
    expect(await client.v1.notifications.unreadCount.fetch()).toEqual({ count: 0 });
    const others = await t.store.db.selectFrom('notifications').select('account_id').execute();
    expect(others.map((r) => r.account_id)).toEqual(['2']);
  });

  it('surfaces Herald’s error body through MastoHttpError for a revoked token', async () => {
    const { id, access_token: accessToken } = await admin('POST', '/tokens', { account_id: '1', scopes: 'read' });
    const revoked = createRestAPIClient({ url: base, accessToken });
    expect(await revoked.v1.notifications.list()).toEqual([]);
    await admin('DELETE', `/tokens/${id}`);
    // A Paginator is a thenable without catch.
    const error = await Promise.resolve(revoked.v1.notifications.list()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MastoHttpError);
    expect(error).toMatchObject({ statusCode: 401, message: 'The access token is invalid' });
  });
});
