import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, ENGINES, PUBLIC_URL, START_TIME, type TestApp } from '../support/test-app.js';
import { schemaErrors } from '../support/openapi.js';

interface Group {
  group_key: string;
  notifications_count: number;
  type: string;
  most_recent_notification_id: number;
  page_min_id?: string;
  page_max_id?: string;
  latest_page_notification_at?: string;
  sample_account_ids: string[];
  status_id?: string | null;
}

const HOUR = 3_600_000;

describe.each(ENGINES)('v2 grouped notifications on %s', (engine) => {
  let t: TestApp;
  let bob: string;
  const ids: number[] = [];

  beforeEach(async () => {
    t = await createTestApp(engine);
    for (const id of ['1', '2', '3', '4', '5']) await t.account(id);
    await t.status('10', { author: '1' });
    await t.status('11', { author: '1' });
    await t.status('12', { author: '4' });
    await t.status('13', { author: '5' });
    bob = await t.token('1', 'read write');
    ids.length = 0;
    // ids[i] in creation order; all within one hour, so favourites of a status and follows group.
    const events = [
      { type: 'favourite', from_account_id: '2', status_id: '10' }, // 0  fav-10
      { type: 'favourite', from_account_id: '3', status_id: '10' }, // 1  fav-10
      { type: 'mention', from_account_id: '4', status_id: '12' }, //   2
      { type: 'favourite', from_account_id: '2', status_id: '11' }, // 3  fav-11
      { type: 'favourite', from_account_id: '5', status_id: '10' }, // 4  fav-10
      { type: 'follow', from_account_id: '3' }, //                     5  follow
      { type: 'follow', from_account_id: '4' }, //                     6  follow
      { type: 'mention', from_account_id: '5', status_id: '13' }, //   7
    ];
    for (const e of events) {
      t.clock.now += 1000;
      ids.push(Number((await t.notify({ account_id: '1', ...e })).id));
    }
  });
  afterEach(() => t.close());

  const list = (query = '') => t.client(bob, 'GET', `/api/v2/notifications${query}`);
  const groupsOf = (res: { json(): any }): Group[] => res.json().notification_groups;
  const summary = (res: { json(): any }) =>
    groupsOf(res).map((g) => [g.most_recent_notification_id, g.notifications_count, Number(g.page_min_id), Number(g.page_max_id)]);
  const keyOf = async (id: number) => (await t.client(bob, 'GET', `/api/v1/notifications/${id}`)).json().group_key as string;

  it('answers GroupedNotificationsResults valid against the OpenAPI schema, each account and status once', async () => {
    const res = await list();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = res.json();
    expect(schemaErrors('GroupedNotificationsResults', body)).toEqual([]);
    expect(Object.keys(body)).toEqual(['accounts', 'statuses', 'notification_groups']);
    expect(groupsOf(res).map((g) => g.most_recent_notification_id)).toEqual([ids[7], ids[6], ids[4], ids[3], ids[2]]);
    const accountIds = body.accounts.map((a: { id: string }) => a.id);
    expect(new Set(accountIds).size).toBe(accountIds.length);
    expect([...accountIds].sort()).toEqual(['2', '3', '4', '5']);
    expect(body.statuses.map((s: { id: string }) => s.id).sort()).toEqual(['10', '11', '12', '13']);
    const fav = groupsOf(res)[2];
    expect(Object.keys(fav)).toEqual([
      'group_key',
      'notifications_count',
      'type',
      'most_recent_notification_id',
      'page_min_id',
      'page_max_id',
      'latest_page_notification_at',
      'sample_account_ids',
      'status_id',
    ]);
    expect(fav).toEqual({
      group_key: await keyOf(ids[4]),
      notifications_count: 3,
      type: 'favourite',
      most_recent_notification_id: ids[4],
      page_min_id: String(ids[0]),
      page_max_id: String(ids[4]),
      latest_page_notification_at: new Date(START_TIME + 5000).toISOString(),
      sample_account_ids: ['5', '3', '2'],
      status_id: '10',
    });
    expect(groupsOf(res)[0]).toMatchObject({ group_key: `ungrouped-${ids[7]}`, sample_account_ids: ['5'], status_id: '13' });
    expect(Object.keys(groupsOf(res)[1])).not.toContain('status_id');
  });

  it('pages down with max_id: one representative per group, counts up to the top of the page range', async () => {
    const first = await list('?limit=2');
    expect(summary(first)).toEqual([
      [ids[7], 1, ids[7], ids[7]],
      [ids[6], 2, ids[6], ids[6]],
    ]);
    expect(groupsOf(first)[1].sample_account_ids).toEqual(['4', '3']);
    expect(first.headers.link).toBe(
      `<${PUBLIC_URL}/api/v2/notifications?limit=2&max_id=${ids[6]}>; rel="next", ` +
        `<${PUBLIC_URL}/api/v2/notifications?limit=2&min_id=${ids[7]}>; rel="prev"`,
    );
    // The follow group shows again below the cursor, counted only up to this page's top.
    const second = await list(`?limit=2&max_id=${ids[6]}`);
    expect(summary(second)).toEqual([
      [ids[5], 1, ids[5], ids[5]],
      [ids[4], 3, ids[4], ids[4]],
    ]);
    expect(groupsOf(second)[1].sample_account_ids).toEqual(['5', '3', '2']);
    const third = await list(`?limit=2&max_id=${ids[4]}`);
    expect(summary(third)).toEqual([
      [ids[3], 1, ids[3], ids[3]],
      [ids[2], 1, ids[2], ids[2]],
    ]);
    // A short last page reaches down to the start: page_min_id is the group's oldest.
    const last = await list(`?limit=2&max_id=${ids[2]}`);
    expect(summary(last)).toEqual([[ids[1], 2, ids[0], ids[1]]]);
    expect(last.headers.link).toBe(`<${PUBLIC_URL}/api/v2/notifications?limit=2&min_id=${ids[1]}>; rel="prev"`);
  });

  it('samples groups whose key holds array syntax (status ids are opaque strings)', async () => {
    const odd = 'we,ird"{id} \\x';
    const put = await t.admin('PUT', `/statuses/${encodeURIComponent(odd)}`, { content: '<p>odd</p>', visibility: 'public' });
    expect(put.statusCode).toBe(200);
    for (const actor of ['2', '3']) {
      t.clock.now += 1000;
      await t.notify({ account_id: '1', type: 'favourite', from_account_id: actor, status_id: odd });
    }
    const res = await list('?limit=1');
    expect(groupsOf(res)[0]).toMatchObject({ group_key: expect.stringContaining(odd), notifications_count: 2, sample_account_ids: ['3', '2'], status_id: odd });
  });

  it('walks past a big group in slices that skip it', async () => {
    for (let i = 0; i < 20; i++) {
      await t.account(`z${i}`);
      t.clock.now += 1000;
      await t.notify({ account_id: '1', type: 'follow', from_account_id: `z${i}` });
    }
    const res = await list('?limit=3');
    expect(groupsOf(res).map((g) => [g.type, g.notifications_count])).toEqual([
      ['follow', 22],
      ['mention', 1],
      ['favourite', 3],
    ]);
    expect(groupsOf(res)[0].page_min_id).toBe(String(ids[5]));
  });

  it('pages up with min_id: the groups just above the cursor, walked oldest first', async () => {
    expect(summary(await list(`?limit=2&min_id=${ids[2]}`))).toEqual([
      [ids[4], 3, ids[4], ids[4]],
      [ids[3], 1, ids[3], ids[3]],
    ]);
    // The follow group is represented by its oldest notification above the cursor, and counted up to the
    // newest representative of the page.
    const full = await list(`?limit=2&min_id=${ids[4]}`);
    expect(groupsOf(full).map((g) => g.group_key)).toEqual([`ungrouped-${ids[7]}`, await keyOf(ids[5])]);
    expect(summary(full)).toEqual([
      [ids[7], 1, ids[7], ids[7]],
      [ids[6], 2, ids[5], ids[6]],
    ]);
    expect(full.headers.link).toBe(
      `<${PUBLIC_URL}/api/v2/notifications?limit=2&max_id=${ids[5]}>; rel="next", ` +
        `<${PUBLIC_URL}/api/v2/notifications?limit=2&min_id=${ids[7]}>; rel="prev"`,
    );
    // A short page reaches down to the cursor.
    expect(summary(await list(`?limit=10&min_id=${ids[3]}`))).toEqual([
      [ids[7], 1, ids[7], ids[7]],
      [ids[6], 2, ids[5], ids[6]],
      [ids[4], 3, ids[4], ids[4]],
    ]);
    expect(summary(await list(`?min_id=${ids[0]}&max_id=${ids[4]}`))).toEqual([
      [ids[3], 1, ids[3], ids[3]],
      [ids[2], 1, ids[2], ids[2]],
      [ids[1], 2, ids[1], ids[1]],
    ]);
  });

  it('reaches down to since_id on a short page', async () => {
    const res = await list(`?since_id=${ids[1]}`);
    expect(summary(res)).toEqual([
      [ids[7], 1, ids[7], ids[7]],
      [ids[6], 2, ids[5], ids[6]],
      [ids[4], 3, ids[4], ids[4]],
      [ids[3], 1, ids[3], ids[3]],
      [ids[2], 1, ids[2], ids[2]],
    ]);
  });

  it('narrows grouping with grouped_types[]; only unknown values group nothing', async () => {
    const follows = await list('?grouped_types[]=follow');
    expect(groupsOf(follows).map((g) => g.group_key)).toEqual([
      `ungrouped-${ids[7]}`,
      await keyOf(ids[6]),
      `ungrouped-${ids[4]}`,
      `ungrouped-${ids[3]}`,
      `ungrouped-${ids[2]}`,
      `ungrouped-${ids[1]}`,
      `ungrouped-${ids[0]}`,
    ]);
    expect(groupsOf(follows)[2]).toMatchObject({ notifications_count: 1, sample_account_ids: ['5'], status_id: '10' });
    expect(schemaErrors('GroupedNotificationsResults', follows.json())).toEqual([]);
    for (const query of ['?grouped_types[]=nonsense', '?grouped_types[]=mention']) {
      expect(groupsOf(await list(query))).toHaveLength(8);
    }
    expect(groupsOf(await list('?grouped_types=follow'))).toHaveLength(5); // a scalar is ignored
  });

  it('filters by types[], exclude_types[] and include_filtered, and ignores account_id', async () => {
    const favs = await list('?types[]=favourite');
    expect(summary(favs)).toEqual([
      [ids[4], 3, ids[0], ids[4]],
      [ids[3], 1, ids[3], ids[3]],
    ]);
    expect(groupsOf(await list('?types[]=nonsense'))).toEqual([]);
    expect(groupsOf(await list('?exclude_types[]=favourite&exclude_types[]=mention')).map((g) => g.type)).toEqual(['follow']);
    expect(groupsOf(await list('?account_id=2'))).toHaveLength(5);
    // A filtered notification (a private mention from a stranger, by default) shows only when asked for.
    await t.status('14', { author: '3', visibility: 'direct' });
    t.clock.now += 1000;
    const filtered = Number((await t.notify({ account_id: '1', type: 'mention', from_account_id: '3', status_id: '14' })).id);
    expect(groupsOf(await list())[0].most_recent_notification_id).toBe(ids[7]);
    expect(groupsOf(await list('?include_filtered=true'))[0]).toMatchObject({ group_key: `ungrouped-${filtered}` });
  });

  it('carries only the listing filters into the Link header, never expand_accounts', async () => {
    const res = await list(
      `?grouped_types[]=follow&types[]=follow&types[]=mention&exclude_types[]=poll&include_filtered=false&limit=1&expand_accounts=partial_avatars&supported_types[]=follow&account_id=2&since_id=${ids[0]}`,
    );
    const filters =
      'exclude_types%5B%5D=poll&grouped_types%5B%5D=follow&include_filtered=false&limit=1';
    const tail = 'supported_types%5B%5D=follow&types%5B%5D=follow&types%5B%5D=mention';
    expect(res.headers.link).toBe(
      `<${PUBLIC_URL}/api/v2/notifications?${filters}&max_id=${ids[7]}&${tail}>; rel="next", ` +
        `<${PUBLIC_URL}/api/v2/notifications?${filters}&min_id=${ids[7]}&${tail}>; rel="prev"`,
    );
  });

  it.each([
    ['?limit=0', 0],
    ['?limit=abc', 0],
    ['?limit=-2', 2],
    ['?limit=3.9', 3],
    ['?limit=1000', 5],
  ])('counts groups with limit %s', async (query, count) => {
    const res = await list(query);
    expect(res.statusCode).toBe(200);
    expect(groupsOf(res)).toHaveLength(count);
    if (count === 0) {
      expect(res.json()).toEqual({ accounts: [], statuses: [], notification_groups: [] });
      expect(res.headers.link).toBeUndefined();
    }
  });

  it('takes 40 groups by default and at most 80', async () => {
    for (let i = 0; i < 90; i++) {
      await t.account(`x${i}`);
      await t.notify({ account_id: '1', type: 'mention', from_account_id: `x${i}`, status_id: '12' });
      await t.notify({ account_id: '1', type: 'follow', from_account_id: `x${i}` });
    }
    expect(groupsOf(await list())).toHaveLength(40);
    const max = await list('?limit=500');
    expect(groupsOf(max)).toHaveLength(80);
    expect(groupsOf(max)[0]).toMatchObject({ type: 'follow', notifications_count: 92 });
    expect(groupsOf(max)[0].sample_account_ids).toEqual(['x89', 'x88', 'x87', 'x86', 'x85', 'x84', 'x83', 'x82']);
  });

  it.each(['max_id', 'since_id', 'min_id'])('answers 400 for a malformed %s', async (name) => {
    const res = await list(`?${name}=x1`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: `Invalid ${name}` });
  });

  it.each(['everything', '', 'FULL'])('refuses expand_accounts=%j with 400 and Mastodon’s text', async (value) => {
    const res = await list(`?expand_accounts=${value}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: `Invalid value for 'expand_accounts': '${value}', allowed values are 'full' and 'partial_avatars'`,
    });
  });

  it('with expand_accounts=partial_avatars, renders only each group’s newest actor in full', async () => {
    const full = await list('?expand_accounts=full');
    expect(full.json().partial_accounts).toBeUndefined();
    const res = await list('?types[]=favourite&expand_accounts=partial_avatars');
    const body = res.json();
    expect(schemaErrors('GroupedNotificationsResults', body)).toEqual([]);
    expect(Object.keys(body)).toEqual(['accounts', 'partial_accounts', 'statuses', 'notification_groups']);
    // fav-10 samples 5, 3, 2; fav-11 samples 2: 5 and 2 are newest of a group, 3 only a partial.
    expect(body.accounts.map((a: { id: string }) => a.id)).toEqual(['5', '2']);
    expect(body.partial_accounts).toEqual([
      {
        id: '3',
        acct: 'user3',
        locked: false,
        bot: false,
        url: 'https://social.test/@user3',
        avatar: 'https://social.test/avatars/3.png',
        avatar_static: 'https://social.test/avatars/3.png',
        avatar_description: '',
      },
    ]);
    for (const p of body.partial_accounts) expect(schemaErrors('PartialAccountWithAvatar', p)).toEqual([]);
  });

  it('samples the 8 most recent actors, newest first, hiding suspended ones from samples and counts', async () => {
    for (let i = 0; i < 10; i++) {
      await t.account(`f${i}`);
      t.clock.now += 1000;
      await t.notify({ account_id: '1', type: 'favourite', from_account_id: `f${i}`, status_id: '11' });
    }
    const group = () => list('?types[]=favourite&limit=1').then((r) => groupsOf(r)[0]);
    expect(await group()).toMatchObject({
      notifications_count: 11,
      sample_account_ids: ['f9', 'f8', 'f7', 'f6', 'f5', 'f4', 'f3', 'f2'],
    });
    await t.account('f8', { suspended: true });
    const res = await list('?types[]=favourite&limit=1');
    expect(groupsOf(res)[0]).toMatchObject({
      notifications_count: 10,
      sample_account_ids: ['f9', 'f7', 'f6', 'f5', 'f4', 'f3', 'f2', 'f1'],
    });
    expect(res.json().accounts.map((a: { id: string }) => a.id)).not.toContain('f8');
  });

  it('adds a fallback for types the client did not list in supported_types[]', async () => {
    await t.account('6');
    t.clock.now += 1000;
    const n = await t.notify({ account_id: '1', type: 'admin.sign_up', from_account_id: '6' });
    const res = await list('?supported_types[]=follow&limit=1');
    expect(groupsOf(res)[0]).toMatchObject({
      group_key: n.group_key,
      type: 'admin.sign_up',
      fallback: { title: 'New sign-up', summary: 'User 6 signed up.', details: null },
    });
    expect(groupsOf(await list('?limit=1'))[0]).not.toHaveProperty('fallback');
  });

  it('shows one group without page fields, counting all of it; ungrouped-<id> names one notification', async () => {
    const key = await keyOf(ids[4]);
    const res = await t.client(bob, 'GET', `/api/v2/notifications/${key}`);
    expect(res.statusCode).toBe(200);
    expect(schemaErrors('GroupedNotificationsResults', res.json())).toEqual([]);
    expect(res.json()).toMatchObject({ statuses: [{ id: '10' }] });
    expect(res.json().accounts.map((a: { id: string }) => a.id)).toEqual(['5', '3', '2']);
    expect(groupsOf(res)).toEqual([
      {
        group_key: key,
        notifications_count: 3,
        type: 'favourite',
        most_recent_notification_id: ids[4],
        sample_account_ids: ['5', '3', '2'],
        status_id: '10',
      },
    ]);
    const single = await t.client(bob, 'GET', `/api/v2/notifications/ungrouped-${ids[0]}`);
    expect(groupsOf(single)).toEqual([
      {
        group_key: `ungrouped-${ids[0]}`,
        notifications_count: 1,
        type: 'favourite',
        most_recent_notification_id: ids[0],
        sample_account_ids: ['2'],
        status_id: '10',
      },
    ]);
    for (const url of ['/api/v2/notifications/favourite-10-1', '/api/v2/notifications/ungrouped-99999', '/api/v2/notifications/ungrouped-x']) {
      const r = await t.client(bob, 'GET', url);
      expect(r.statusCode).toBe(404);
      expect(r.json()).toEqual({ error: 'Record not found' });
    }
  });

  it('routes group keys with dots (admin.sign_up)', async () => {
    await t.account('6');
    await t.account('7');
    t.clock.now += 1000;
    const a = await t.notify({ account_id: '1', type: 'admin.sign_up', from_account_id: '6' });
    t.clock.now += 1000;
    await t.notify({ account_id: '1', type: 'admin.sign_up', from_account_id: '7' });
    expect(a.group_key).toMatch(/^admin\.sign_up-\d+$/);
    const shown = await t.client(bob, 'GET', `/api/v2/notifications/${a.group_key}`);
    expect(shown.statusCode).toBe(200);
    expect(groupsOf(shown)[0]).toMatchObject({ group_key: a.group_key, notifications_count: 2, sample_account_ids: ['7', '6'] });
    const accounts = await t.client(bob, 'GET', `/api/v2/notifications/${a.group_key}/accounts`);
    expect(accounts.json().map((x: { id: string }) => x.id)).toEqual(['7', '6']);
    const dismissed = await t.client(bob, 'POST', `/api/v2/notifications/${a.group_key}/dismiss`);
    expect(dismissed.statusCode).toBe(200);
    expect((await t.client(bob, 'GET', `/api/v2/notifications/${a.group_key}`)).statusCode).toBe(404);
  });

  it('never answers a 500 for a group key holding a NUL (which PostgreSQL cannot store)', async () => {
    for (const [method, url] of [
      ['GET', '/api/v2/notifications/follow%00-1'],
      ['GET', '/api/v2/notifications/follow%00-1/accounts'],
      ['POST', '/api/v2/notifications/follow%00-1/dismiss'],
    ] as const) {
      const res = await t.client(bob, method, url);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
  });

  it('lists a group’s actors newest first, paged with a Link header; ungrouped-<id> answers one actor', async () => {
    const key = await keyOf(ids[4]);
    const url = `/api/v2/notifications/${key}/accounts`;
    const all = await t.client(bob, 'GET', url);
    expect(all.statusCode).toBe(200);
    expect(all.json().map((a: { id: string }) => a.id)).toEqual(['5', '3', '2']);
    for (const a of all.json()) expect(schemaErrors('Account', a)).toEqual([]);
    expect(all.headers.link).toBe(`<${PUBLIC_URL}${url}?min_id=${ids[4]}>; rel="prev"`);
    const first = await t.client(bob, 'GET', `${url}?limit=2`);
    expect(first.json().map((a: { id: string }) => a.id)).toEqual(['5', '3']);
    expect(first.headers.link).toBe(
      `<${PUBLIC_URL}${url}?limit=2&max_id=${ids[1]}>; rel="next", <${PUBLIC_URL}${url}?limit=2&min_id=${ids[4]}>; rel="prev"`,
    );
    expect((await t.client(bob, 'GET', `${url}?limit=2&max_id=${ids[1]}`)).json().map((a: { id: string }) => a.id)).toEqual(['2']);
    expect((await t.client(bob, 'GET', `${url}?min_id=${ids[0]}&limit=1`)).json().map((a: { id: string }) => a.id)).toEqual(['3']);
    const single = await t.client(bob, 'GET', `/api/v2/notifications/ungrouped-${ids[2]}/accounts`);
    expect(single.json().map((a: { id: string }) => a.id)).toEqual(['4']);
    const unknown = await t.client(bob, 'GET', '/api/v2/notifications/follow-1/accounts');
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json()).toEqual([]);
    expect(unknown.headers.link).toBeUndefined();
  });

  it('dismisses every notification of a group, always answering 200 {}', async () => {
    const key = await keyOf(ids[4]);
    const res = await t.client(bob, 'POST', `/api/v2/notifications/${key}/dismiss`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    const v1 = (await t.client(bob, 'GET', '/api/v1/notifications')).json().map((n: { id: string }) => Number(n.id));
    expect(v1).toEqual([ids[7], ids[6], ids[5], ids[3], ids[2]]);
    const again = await t.client(bob, 'POST', `/api/v2/notifications/${key}/dismiss`);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({});
    expect((await t.client(bob, 'POST', `/api/v2/notifications/ungrouped-${ids[2]}/dismiss`)).json()).toEqual({});
    expect((await t.client(bob, 'GET', `/api/v1/notifications/${ids[2]}`)).statusCode).toBe(404);
    expect((await t.client(bob, 'POST', '/api/v2/notifications/ungrouped-nope/dismiss')).json()).toEqual({});
  });

  it('keeps each account’s groups its own', async () => {
    const alice = await t.token('2', 'read write');
    const key = await keyOf(ids[4]);
    expect((await t.client(alice, 'GET', `/api/v2/notifications/${key}`)).statusCode).toBe(404);
    expect((await t.client(alice, 'GET', `/api/v2/notifications/ungrouped-${ids[2]}`)).statusCode).toBe(404);
    expect((await t.client(alice, 'GET', `/api/v2/notifications/${key}/accounts`)).json()).toEqual([]);
    expect((await t.client(alice, 'GET', `/api/v2/notifications/ungrouped-${ids[2]}/accounts`)).json()).toEqual([]);
    expect((await t.client(alice, 'POST', `/api/v2/notifications/${key}/dismiss`)).statusCode).toBe(200);
    expect((await t.client(alice, 'POST', `/api/v2/notifications/ungrouped-${ids[2]}/dismiss`)).statusCode).toBe(200);
    expect((await t.client(alice, 'GET', '/api/v2/notifications')).json().notification_groups).toEqual([]);
    expect(groupsOf(await list())).toHaveLength(5);
    expect(groupsOf(await list())[2].notifications_count).toBe(3);
  });

  it('counts unread groups above the notifications marker, with the cap and grouped_types[]', async () => {
    const count = async (q = '') => (await t.client(bob, 'GET', `/api/v2/notifications/unread_count${q}`)).json();
    expect(await count()).toEqual({ count: 5 });
    expect(await count('?limit=2')).toEqual({ count: 2 });
    expect(await count('?grouped_types[]=follow')).toEqual({ count: 7 });
    expect(await count('?types[]=favourite')).toEqual({ count: 2 });
    expect(await count('?limit=0')).toEqual({ count: 0 });
    await t.client(bob, 'POST', '/api/v1/markers', { notifications: { last_read_id: String(ids[4]) } });
    // Above the marker: ids 5, 6 (one follow group) and 7.
    expect(await count()).toEqual({ count: 2 });
    expect(await count('?grouped_types[]=nonsense')).toEqual({ count: 3 });
    await t.client(bob, 'POST', '/api/v1/markers', { notifications: { last_read_id: String(ids[7]) } });
    expect(await count()).toEqual({ count: 0 });
  });

  it('caps the unread group count at 1000', async () => {
    for (let i = 0; i < 30; i++) {
      await t.account(`y${i}`);
      await t.notify({ account_id: '1', type: 'mention', from_account_id: `y${i}`, status_id: '12' });
    }
    const count = async (q = '') => (await t.client(bob, 'GET', `/api/v2/notifications/unread_count${q}`)).json().count;
    expect(await count('?limit=5000')).toBe(35);
    expect(await count('?limit=20')).toBe(20);
  });

  it('counts more groups than a cached query holds keys for (over 128 groups skipped in one walk)', async () => {
    // 160 statuses favourited by 7 actors each: the first 1000-row slice finds 143 groups, so the next
    // slice skips 143 keys.
    for (let a = 0; a < 7; a++) await t.account(`fan${a}`);
    const events = [];
    for (let i = 0; i < 160; i++) {
      await t.status(`p${i}`, { author: '1' });
      for (let a = 0; a < 7; a++) events.push({ account_id: '1', type: 'favourite', from_account_id: `fan${a}`, status_id: `p${i}` });
    }
    for (let i = 0; i < events.length; i += 1000) {
      expect((await t.admin('POST', '/notifications/batch', { events: events.slice(i, i + 1000) })).statusCode).toBe(200);
    }
    const count = async (q = '') => (await t.client(bob, 'GET', `/api/v2/notifications/unread_count${q}`)).json().count;
    expect(await count('?limit=1000')).toBe(165);
    expect(await count('?limit=150')).toBe(150);
    const page = (await list('?limit=80')).json().notification_groups;
    expect(page).toHaveLength(80);
    expect(page.every((g: Group) => g.notifications_count === 7 && g.sample_account_ids.length === 7)).toBe(true);
  });

  it('asks for the read scope to list and the write scope to dismiss', async () => {
    const pushOnly = await t.token('1', 'push');
    const readOnly = await t.token('1', 'read:notifications');
    expect((await t.client(undefined, 'GET', '/api/v2/notifications')).statusCode).toBe(401);
    expect((await t.client(pushOnly, 'GET', '/api/v2/notifications')).statusCode).toBe(403);
    expect((await t.client(pushOnly, 'GET', '/api/v2/notifications/unread_count')).statusCode).toBe(403);
    expect((await t.client(readOnly, 'GET', '/api/v2/notifications')).statusCode).toBe(200);
    expect((await t.client(readOnly, 'GET', `/api/v2/notifications/ungrouped-${ids[2]}/accounts`)).statusCode).toBe(200);
    const denied = await t.client(readOnly, 'POST', `/api/v2/notifications/ungrouped-${ids[2]}/dismiss`);
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toEqual({ error: 'This action is outside the authorized scopes' });
    expect((await t.client(await t.token('1', 'write:notifications'), 'POST', `/api/v2/notifications/ungrouped-${ids[2]}/dismiss`)).statusCode).toBe(200);
  });
});

describe.each(ENGINES)('v2 group keys over time on %s', (engine) => {
  let t: TestApp;
  let bob: string;

  beforeEach(async () => {
    t = await createTestApp(engine);
    await t.account('1');
    await t.status('10', { author: '1' });
    await t.status('11', { author: '1' });
    for (let i = 0; i < 6; i++) await t.account(`a${i}`);
    bob = await t.token('1', 'read');
  });
  afterEach(() => t.close());

  /** Posts an event created `offsetMs` after START_TIME, with the clock there too. */
  const at = async (offsetMs: number, event: Record<string, unknown>) => {
    t.clock.now = START_TIME + offsetMs;
    return t.notify({ account_id: '1', created_at: new Date(START_TIME + offsetMs).toISOString(), ...event });
  };
  const fav = (actor: string, status = '10') => ({ type: 'favourite', from_account_id: actor, status_id: status });
  const groups = async () =>
    (await t.client(bob, 'GET', '/api/v2/notifications')).json().notification_groups.map((g: Group) => [g.group_key, g.notifications_count]);

  it('groups favourites of one status within the hour, apart from another status’s', async () => {
    const bucket = Math.floor(START_TIME / HOUR);
    const a = await at(0, fav('a0'));
    const b = await at(20 * 60_000, fav('a1'));
    const c = await at(30 * 60_000, fav('a2', '11'));
    expect(a.group_key).toBe(`favourite-10-${bucket}`);
    expect(b.group_key).toBe(a.group_key);
    expect(c.group_key).toBe(`favourite-11-${bucket}`);
    expect(await groups()).toEqual([
      [c.group_key, 1],
      [a.group_key, 2],
    ]);
  });

  it('keeps a group open for less than 12 hours from its first bucket, then starts a new one', async () => {
    const bucket = Math.floor(START_TIME / HOUR);
    const first = await at(0, fav('a0'));
    const later = await at(5 * HOUR, fav('a1'));
    const lastIn = await at(12 * HOUR - 1000, fav('a2'));
    const next = await at(12 * HOUR, fav('a3'));
    const after = await at(13 * HOUR, fav('a4'));
    expect([later.group_key, lastIn.group_key]).toEqual([first.group_key, first.group_key]);
    expect(next.group_key).toBe(`favourite-10-${bucket + 12}`);
    expect(after.group_key).toBe(next.group_key);
    expect(await groups()).toEqual([
      [next.group_key, 2],
      [first.group_key, 3],
    ]);
  });

  it('groups follows by time alone, and never groups mentions', async () => {
    const f1 = await at(0, { type: 'follow', from_account_id: 'a0' });
    const f2 = await at(HOUR, { type: 'follow', from_account_id: 'a1' });
    const m = await at(HOUR + 1000, { type: 'mention', from_account_id: 'a2', status_id: '10' });
    expect(f2.group_key).toBe(f1.group_key);
    expect(m.group_key).toBe(`ungrouped-${m.id}`);
    expect(await groups()).toEqual([
      [`ungrouped-${m.id}`, 1],
      [f1.group_key, 2],
    ]);
  });
});
