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
});
