import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, ENGINES, PUBLIC_URL, type TestApp } from '../support/test-app.js';
import { schemaErrors } from '../support/openapi.js';

describe.each(ENGINES)('v1 notifications on %s', (engine) => {
  let t: TestApp;
  let bob: string;
  const ids: number[] = [];

  beforeEach(async () => {
    t = await createTestApp(engine);
    await t.account('1');
    await t.account('2');
    await t.account('3');
    await t.status('10', { author: '1' });
    bob = await t.token('1', 'read write');
    ids.length = 0;
    // Five notifications for account 1: ids ascend with creation.
    const events = [
      { type: 'favourite', from_account_id: '2', status_id: '10' },
      { type: 'follow', from_account_id: '2' },
      { type: 'mention', from_account_id: '3', status_id: '10' },
      { type: 'reblog', from_account_id: '3', status_id: '10' },
      { type: 'follow', from_account_id: '3' },
    ];
    for (const e of events) {
      t.clock.now += 1000;
      ids.push(Number((await t.notify({ account_id: '1', ...e })).id));
    }
  });
  afterEach(() => t.close());

  const list = (query = '') => t.client(bob, 'GET', `/api/v1/notifications${query}`);
  const idsOf = (res: { json(): any }) => res.json().map((n: { id: string }) => Number(n.id));

  it('lists newest first, each notification valid against the OpenAPI schema', async () => {
    const res = await list();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(idsOf(res)).toEqual([...ids].reverse());
    for (const n of res.json()) expect(schemaErrors('Notification', n)).toEqual([]);
    expect(res.json()[0]).toMatchObject({ type: 'follow', group_key: expect.stringMatching(/^follow-\d+$/) });
    expect(Object.keys(res.json()[2])).toEqual(['id', 'type', 'created_at', 'group_key', 'account', 'status']);
  });

  it('pages with max_id, since_id and min_id, and writes the exact Link header', async () => {
    const first = await list('?limit=2');
    expect(idsOf(first)).toEqual([ids[4], ids[3]]);
    expect(first.headers.link).toBe(
      `<${PUBLIC_URL}/api/v1/notifications?limit=2&max_id=${ids[3]}>; rel="next", ` +
        `<${PUBLIC_URL}/api/v1/notifications?limit=2&min_id=${ids[4]}>; rel="prev"`,
    );
    expect(idsOf(await list(`?limit=2&max_id=${ids[3]}`))).toEqual([ids[2], ids[1]]);
    // since_id: the newest rows above the cursor; min_id: the rows just above it.
    expect(idsOf(await list(`?limit=2&since_id=${ids[0]}`))).toEqual([ids[4], ids[3]]);
    expect(idsOf(await list(`?limit=2&min_id=${ids[0]}`))).toEqual([ids[2], ids[1]]);
    expect(idsOf(await list(`?min_id=${ids[0]}&max_id=${ids[3]}`))).toEqual([ids[2], ids[1]]);
    // since_id is ignored beside min_id.
    expect(idsOf(await list(`?limit=1&min_id=${ids[1]}&since_id=${ids[3]}`))).toEqual([ids[2]]);
  });

  it('sends no next link on a short page, and no Link at all on an empty one', async () => {
    const short = await list(`?limit=3&max_id=${ids[2]}`);
    expect(idsOf(short)).toEqual([ids[1], ids[0]]);
    expect(short.headers.link).toBe(`<${PUBLIC_URL}/api/v1/notifications?limit=3&min_id=${ids[1]}>; rel="prev"`);
    const empty = await list(`?max_id=${ids[0]}`);
    expect(empty.json()).toEqual([]);
    expect(empty.headers.link).toBeUndefined();
  });

  it('carries filters into the Link header, sorted, arrays bracketed, since_id dropped', async () => {
    const res = await list(`?types[]=follow&types[]=mention&limit=1&since_id=${ids[0]}&include_filtered=false&bogus=1`);
    expect(res.headers.link).toBe(
      `<${PUBLIC_URL}/api/v1/notifications?include_filtered=false&limit=1&max_id=${ids[4]}&types%5B%5D=follow&types%5B%5D=mention>; rel="next", ` +
        `<${PUBLIC_URL}/api/v1/notifications?include_filtered=false&limit=1&min_id=${ids[4]}&types%5B%5D=follow&types%5B%5D=mention>; rel="prev"`,
    );
  });

  it.each([
    ['?limit=0', 0],
    ['?limit=abc', 0],
    ['?limit=-2', 2],
    ['?limit=2.9', 2],
    ['?limit=%207', 5],
    ['?limit=1e3', 1],
    ['?limit=1000', 5],
  ])('reads limit %s like Mastodon', async (query, count) => {
    const res = await list(query);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toHaveLength(count);
    if (count === 0) expect(res.headers.link).toBeUndefined();
  });

  it('clamps limit to 80', async () => {
    for (let i = 0; i < 85; i++) {
      await t.account(`x${i}`);
      await t.notify({ account_id: '1', type: 'follow', from_account_id: `x${i}` });
    }
    expect((await list('?limit=500')).json()).toHaveLength(80);
    expect((await list()).json()).toHaveLength(40);
  });

  it.each(['max_id', 'since_id', 'min_id'])('answers 400 for a malformed %s', async (name) => {
    const res = await list(`?${name}=abc`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: `Invalid ${name}` });
  });

  it('filters by types[], exclude_types[] and account_id', async () => {
    expect(idsOf(await list('?types[]=follow'))).toEqual([ids[4], ids[1]]);
    expect(idsOf(await list('?types[]=nonsense'))).toEqual([]);
    expect(idsOf(await list('?types[]=nonsense&types[]=mention'))).toEqual([ids[2]]);
    expect(idsOf(await list('?types=follow'))).toHaveLength(5); // a scalar is ignored
    expect(idsOf(await list('?exclude_types[]=follow&exclude_types[]=reblog'))).toEqual([ids[2], ids[0]]);
    expect(idsOf(await list('?account_id=2'))).toEqual([ids[1], ids[0]]);
  });

  it('hides notifications from suspended or removed actors, but lets them be dismissed', async () => {
    await t.account('2', { suspended: true });
    expect(idsOf(await list())).toEqual([ids[4], ids[3], ids[2]]);
    expect((await t.client(bob, 'GET', `/api/v1/notifications/${ids[0]}`)).statusCode).toBe(404);
    expect((await t.client(bob, 'GET', '/api/v1/notifications/unread_count')).json()).toEqual({ count: 3 });
    expect((await t.client(bob, 'POST', `/api/v1/notifications/${ids[0]}/dismiss`)).statusCode).toBe(200);
    await t.account('2');
    expect(idsOf(await list())).toEqual([ids[4], ids[3], ids[2], ids[1]]);
    await t.admin('DELETE', '/accounts/3');
    expect(idsOf(await list())).toEqual([ids[1]]);
  });

  it('shows one notification, and 404 for another account’s or a malformed id', async () => {
    const res = await t.client(bob, 'GET', `/api/v1/notifications/${ids[2]}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: String(ids[2]), type: 'mention', status: { id: '10' } });
    expect(schemaErrors('Notification', res.json())).toEqual([]);
    const other = await t.token('2', 'read write');
    for (const url of [`/api/v1/notifications/${ids[2]}`, '/api/v1/notifications/abc', '/api/v1/notifications/99999']) {
      const r = await t.client(other, 'GET', url);
      expect(r.statusCode).toBe(404);
      expect(r.json()).toEqual({ error: 'Record not found' });
    }
  });

  it('gives types the client did not list Mastodon 4.6’s fallback, in the list and on the notification itself', async () => {
    const signUp = await t.notify({ account_id: '1', type: 'admin.sign_up', from_account_id: '2' });
    const supported = '?supported_types[]=mention&supported_types[]=follow';
    const [listed] = (await list(supported)).json();
    expect(listed).toMatchObject({ id: signUp.id, fallback: { title: 'New sign-up', summary: 'User 2 signed up.', details: null } });
    // Keys in SPEC §3's order: fallback after filtered, before account.
    expect(Object.keys(listed)).toEqual(['id', 'type', 'created_at', 'group_key', 'fallback', 'account']);
    expect(schemaErrors('Notification', listed)).toEqual([]);
    const shown = (await t.client(bob, 'GET', `/api/v1/notifications/${signUp.id}${supported}`)).json();
    expect(shown.fallback).toEqual(listed.fallback);
    // Not asked for, or a listed type: no fallback.
    expect((await t.client(bob, 'GET', `/api/v1/notifications/${signUp.id}`)).json()).not.toHaveProperty('fallback');
    expect((await t.client(bob, 'GET', `/api/v1/notifications/${signUp.id}?supported_types[]=admin.sign_up`)).json()).not.toHaveProperty('fallback');
  });

  it('dismisses by path and by the original form API; never another account’s', async () => {
    const other = await t.token('2', 'write');
    expect((await t.client(other, 'POST', `/api/v1/notifications/${ids[0]}/dismiss`)).statusCode).toBe(404);
    expect((await t.client(other, 'POST', '/api/v1/notifications/dismiss', { id: String(ids[0]) })).statusCode).toBe(404);
    const r1 = await t.client(bob, 'POST', `/api/v1/notifications/${ids[0]}/dismiss`);
    expect(r1.statusCode).toBe(200);
    expect(r1.json()).toEqual({});
    const r2 = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notifications/dismiss',
      headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `id=${ids[1]}`,
    });
    expect(r2.statusCode).toBe(200);
    expect(idsOf(await list())).toEqual([ids[4], ids[3], ids[2]]);
    expect((await t.client(bob, 'POST', `/api/v1/notifications/${ids[0]}/dismiss`)).statusCode).toBe(404);
  });

  it('clears only the caller’s notifications', async () => {
    await t.notify({ account_id: '2', type: 'follow', from_account_id: '3' });
    const alice = await t.token('2', 'read');
    const res = await t.client(bob, 'POST', '/api/v1/notifications/clear');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    expect((await list()).json()).toEqual([]);
    expect((await t.client(alice, 'GET', '/api/v1/notifications')).json()).toHaveLength(1);
  });

  it('counts unread notifications above the notifications marker, with the cap and filters', async () => {
    const count = async (q = '') => (await t.client(bob, 'GET', `/api/v1/notifications/unread_count${q}`)).json();
    expect(await count()).toEqual({ count: 5 });
    expect(await count('?limit=2')).toEqual({ count: 2 });
    expect(await count('?types[]=follow')).toEqual({ count: 2 });
    const marker = await t.client(bob, 'POST', '/api/v1/markers', { notifications: { last_read_id: String(ids[2]) } });
    expect(marker.statusCode).toBe(200);
    expect(await count()).toEqual({ count: 2 });
  });
});
