import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, ENGINES, PUBLIC_URL, START_TIME, type TestApp } from '../support/test-app.js';
import { schemaErrors } from '../support/openapi.js';

const DAY = 86_400_000;
const ALL_ACCEPT = {
  for_not_following: 'accept',
  for_not_followers: 'accept',
  for_new_accounts: 'accept',
  for_private_mentions: 'accept',
  for_limited_accounts: 'accept',
  for_bots: 'accept',
};
const LONG_FOLLOWER = { following: false, followed_by: true, followed_by_since: '2025-01-01T00:00:00.000Z' };
const MUTUAL = { following: true, followed_by: true, followed_by_since: '2025-01-01T00:00:00.000Z' };

function form(t: TestApp, token: string, method: 'POST' | 'PUT' | 'PATCH', url: string, body: string) {
  return t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
    payload: body,
  });
}

describe.each(ENGINES)('notification policy on %s', (engine) => {
  let t: TestApp;
  let bob: string;

  beforeEach(async () => {
    t = await createTestApp(engine);
    await t.account('1');
    await t.account('2');
    bob = await t.token('1', 'read write');
  });
  afterEach(() => t.close());

  const policy = () => t.client(bob, 'GET', '/api/v2/notifications/policy');

  it('answers the defaults with an empty summary, valid against the OpenAPI schema', async () => {
    const res = await policy();
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json()).toEqual({
      for_not_following: 'accept',
      for_not_followers: 'accept',
      for_new_accounts: 'accept',
      for_private_mentions: 'filter',
      for_limited_accounts: 'filter',
      for_bots: 'accept',
      summary: { pending_requests_count: 0, pending_notifications_count: 0 },
    });
    expect(schemaErrors('NotificationPolicy', res.json())).toEqual([]);
  });

  it.each(['PATCH', 'PUT'] as const)('updates only the fields sent, with %s as JSON or form', async (method) => {
    const res = await t.client(bob, method, '/api/v2/notifications/policy', { for_bots: 'drop', for_new_accounts: 'filter' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ for_bots: 'drop', for_new_accounts: 'filter', for_private_mentions: 'filter', for_not_following: 'accept' });
    expect(schemaErrors('NotificationPolicy', res.json())).toEqual([]);
    const second = await form(t, bob, method, '/api/v2/notifications/policy', 'for_not_following=filter&for_bots=accept');
    expect(second.json()).toMatchObject({ for_bots: 'accept', for_new_accounts: 'filter', for_not_following: 'filter' });
    expect((await policy()).json()).toEqual(second.json());
  });

  it.each([
    [{ for_bots: 'block' }, 'Validation failed: For bots is not included in the list'],
    [{ for_bots: '' }, 'Validation failed: For bots is not included in the list'],
    [{ for_not_following: 1, for_limited_accounts: ['drop'] }, 'Validation failed: For not following is not included in the list, For limited accounts is not included in the list'],
    [{ for_private_mentions: 'accept', for_new_accounts: 'DROP' }, 'Validation failed: For new accounts is not included in the list'],
  ])('answers 422 for %j and changes nothing', async (body, message) => {
    const res = await t.client(bob, 'PATCH', '/api/v2/notifications/policy', body);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ error: message });
    expect((await policy()).json()).toMatchObject({ for_private_mentions: 'filter', for_bots: 'accept', for_new_accounts: 'accept' });
  });

  it('reads and writes the v1 form with booleans; drop reads as true and survives a write-back', async () => {
    await t.client(bob, 'PATCH', '/api/v2/notifications/policy', { for_not_followers: 'drop' });
    const v1 = await t.client(bob, 'GET', '/api/v1/notifications/policy');
    expect(v1.statusCode).toBe(200);
    expect(v1.json()).toEqual({
      filter_not_following: false,
      filter_not_followers: true,
      filter_new_accounts: false,
      filter_private_mentions: true,
      summary: { pending_requests_count: 0, pending_notifications_count: 0 },
    });
    expect(schemaErrors('V1NotificationPolicy', v1.json())).toEqual([]);
    const { summary: _summary, ...flags } = v1.json();
    const back = await t.client(bob, 'PUT', '/api/v1/notifications/policy', flags);
    expect(back.json()).toEqual(v1.json());
    expect((await policy()).json()).toMatchObject({ for_not_followers: 'drop', for_private_mentions: 'filter' });
  });

  it.each([
    ['true', 'filter'],
    ['1', 'filter'],
    ['yes', 'filter'],
    ['false', 'accept'],
    ['0', 'accept'],
    ['f', 'accept'],
    ['off', 'accept'],
    ['FALSE', 'accept'],
    ['', 'filter'], // unset: unchanged from the default
  ])('casts filter_private_mentions=%j like Rails (→ %s)', async (value, expected) => {
    const res = await form(t, bob, 'PUT', '/api/v1/notifications/policy', `filter_private_mentions=${value}&filter_not_following=t`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ filter_private_mentions: expected !== 'accept', filter_not_following: true });
    expect((await policy()).json()).toMatchObject({ for_private_mentions: expected, for_not_following: 'filter' });
  });

  it('asks for read to look and write to change', async () => {
    const readOnly = await t.token('1', 'read:notifications');
    const writeOnly = await t.token('1', 'write:notifications');
    expect((await t.client(readOnly, 'GET', '/api/v2/notifications/policy')).statusCode).toBe(200);
    expect((await t.client(readOnly, 'GET', '/api/v1/notifications/policy')).statusCode).toBe(200);
    for (const [method, url] of [
      ['PATCH', '/api/v2/notifications/policy'],
      ['PUT', '/api/v2/notifications/policy'],
      ['PUT', '/api/v1/notifications/policy'],
    ] as const) {
      expect((await t.client(readOnly, method, url, {})).statusCode).toBe(403);
      expect((await t.client(writeOnly, method, url, {})).statusCode).toBe(200);
    }
    expect((await t.client(writeOnly, 'GET', '/api/v2/notifications/policy')).statusCode).toBe(403);
    expect((await t.client(undefined, 'GET', '/api/v2/notifications/policy')).statusCode).toBe(401);
  });
});

/** Each policy condition: how to make an event meet it, and a relationship that keeps it from holding. */
const CONDITIONS = [
  { field: 'for_not_following', actor: {}, visibility: 'public', relationship: LONG_FOLLOWER, passing: MUTUAL },
  { field: 'for_not_followers', actor: {}, visibility: 'public', relationship: { following: true }, passing: MUTUAL },
  {
    field: 'for_new_accounts',
    actor: { created_at: new Date(START_TIME - 10 * DAY).toISOString() },
    visibility: 'public',
    relationship: LONG_FOLLOWER,
    passing: MUTUAL,
  },
  { field: 'for_private_mentions', actor: {}, visibility: 'direct', relationship: LONG_FOLLOWER, passing: MUTUAL },
  { field: 'for_limited_accounts', actor: { limited: true }, visibility: 'public', relationship: LONG_FOLLOWER, passing: MUTUAL },
  { field: 'for_bots', actor: { bot: true }, visibility: 'public', relationship: LONG_FOLLOWER, passing: MUTUAL },
] as const;

const CASES = CONDITIONS.flatMap((c) => (['accept', 'filter', 'drop'] as const).map((value) => ({ ...c, value })));

describe.each(ENGINES)('policy conditions at ingest on %s', (engine) => {
  let t: TestApp;
  let bob: string;

  beforeEach(async () => {
    t = await createTestApp(engine);
    await t.account('1');
    bob = await t.token('1', 'read write');
  });
  afterEach(() => t.close());

  it.each(CASES)('$field = $value', async ({ field, value, actor, visibility, relationship, passing }) => {
    await t.account('2', actor);
    await t.status('20', { author: '2', visibility });
    await t.client(bob, 'PATCH', '/api/v2/notifications/policy', { ...ALL_ACCEPT, [field]: value });
    const mention = { account_id: '1', type: 'mention', from_account_id: '2', status_id: '20' };
    const answer = await t.notify({ ...mention, relationship });
    const listed = async (q = '') => (await t.client(bob, 'GET', `/api/v1/notifications${q}`)).json().map((n: { id: string }) => n.id);
    const requests = async () => (await t.client(bob, 'GET', '/api/v1/notifications/requests')).json();
    if (value === 'drop') {
      expect(answer).toEqual({ dropped: true, reason: 'policy' });
      expect(await listed('?include_filtered=true')).toEqual([]);
    } else if (value === 'filter') {
      expect(answer).toMatchObject({ type: 'mention', filtered: true, group_key: `ungrouped-${answer.id}` });
      expect(await listed()).toEqual([]);
      expect(await listed('?include_filtered=true')).toEqual([answer.id]);
      expect(await requests()).toMatchObject([{ account: { id: '2' }, notifications_count: '1', last_status: { id: '20' } }]);
    } else {
      expect(answer).not.toHaveProperty('filtered');
      expect(await listed()).toEqual([answer.id]);
      expect(await requests()).toEqual([]);
    }
    // The same event from someone the recipient follows (and who follows back) always passes.
    await t.status('21', { author: '2', visibility });
    const passed = await t.notify({ ...mention, status_id: '21', relationship: passing });
    expect(passed).toMatchObject({ type: 'mention' });
    expect(passed).not.toHaveProperty('filtered');
  });

  it('counts a follower of less than three days as not a follower', async () => {
    await t.account('2');
    await t.client(bob, 'PATCH', '/api/v2/notifications/policy', { ...ALL_ACCEPT, for_not_followers: 'filter' });
    const recent = { following: true, followed_by: true, followed_by_since: new Date(START_TIME - 2 * DAY).toISOString() };
    expect(await t.notify({ account_id: '1', type: 'follow', from_account_id: '2', relationship: recent })).toMatchObject({ filtered: true });
  });

  it('filters other filterable types without opening a request, and never filters non-filterable ones', async () => {
    await t.account('2', { bot: true });
    await t.status('10', { author: '1' });
    await t.client(bob, 'PATCH', '/api/v2/notifications/policy', { ...ALL_ACCEPT, for_bots: 'filter' });
    const fav = await t.notify({ account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' });
    expect(fav).toMatchObject({ filtered: true, group_key: `ungrouped-${fav.id}` });
    expect((await t.client(bob, 'GET', '/api/v1/notifications/requests')).json()).toEqual([]);
    const update = await t.notify({ account_id: '1', type: 'update', from_account_id: '2', status_id: '10' });
    expect(update).not.toHaveProperty('filtered');
  });
});

describe.each(ENGINES)('notification requests on %s', (engine) => {
  let t: TestApp;
  let bob: string;
  /** Filtered notification ids per actor. */
  const filtered: Record<string, string[]> = {};

  const directMention = async (from: string, statusId: string, recipient = '1') => {
    await t.status(statusId, { author: from, visibility: 'direct' });
    t.clock.now += 1000;
    return t.notify({ account_id: recipient, type: 'mention', from_account_id: from, status_id: statusId });
  };

  beforeEach(async () => {
    t = await createTestApp(engine);
    for (const id of ['1', '2', '3', '4', '5']) await t.account(id);
    bob = await t.token('1', 'read write');
    // Default policy: private mentions from strangers are filtered and gather into requests.
    filtered['2'] = [(await directMention('2', '20')).id, (await directMention('2', '21')).id];
    filtered['3'] = [(await directMention('3', '30')).id];
    filtered['4'] = [(await directMention('4', '40')).id];
  });
  afterEach(() => t.close());

  const requests = (q = '') => t.client(bob, 'GET', `/api/v1/notifications/requests${q}`);
  const actorsOf = (res: { json(): any }) => res.json().map((r: { account: { id: string } }) => r.account.id);
  const requestIdOf = async (actor: string) =>
    (await requests()).json().find((r: { account: { id: string } }) => r.account.id === actor).id as string;
  const v1 = async (q = '') => (await t.client(bob, 'GET', `/api/v1/notifications${q}`)).json().map((n: { id: string }) => n.id);

  it('lists requests newest first, valid against the OpenAPI schema, counts as strings', async () => {
    const res = await requests();
    expect(res.statusCode).toBe(200);
    expect(actorsOf(res)).toEqual(['4', '3', '2']);
    for (const r of res.json()) expect(schemaErrors('NotificationRequest', r)).toEqual([]);
    const first = res.json()[2];
    expect(Object.keys(first)).toEqual(['id', 'created_at', 'updated_at', 'notifications_count', 'account', 'last_status']);
    expect(first).toMatchObject({
      notifications_count: '2',
      account: { id: '2', acct: 'user2' },
      last_status: { id: '21', visibility: 'direct' },
      created_at: new Date(START_TIME + 1000).toISOString(),
      updated_at: new Date(START_TIME + 2000).toISOString(),
    });
    expect(res.headers.link).toBe(`<${PUBLIC_URL}/api/v1/notifications/requests?min_id=${res.json()[0].id}>; rel="prev"`);
    const summary = (await t.client(bob, 'GET', '/api/v2/notifications/policy')).json().summary;
    expect(summary).toEqual({ pending_requests_count: 3, pending_notifications_count: 4 });
  });

  it('pages requests by id with a Link header, next only on a full page', async () => {
    const ids = (await requests()).json().map((r: { id: string }) => r.id);
    const first = await requests('?limit=2');
    expect(actorsOf(first)).toEqual(['4', '3']);
    expect(first.headers.link).toBe(
      `<${PUBLIC_URL}/api/v1/notifications/requests?limit=2&max_id=${ids[1]}>; rel="next", ` +
        `<${PUBLIC_URL}/api/v1/notifications/requests?limit=2&min_id=${ids[0]}>; rel="prev"`,
    );
    expect(actorsOf(await requests(`?limit=2&max_id=${ids[1]}`))).toEqual(['2']);
    expect(actorsOf(await requests(`?limit=1&min_id=${ids[2]}`))).toEqual(['3']);
    expect(actorsOf(await requests(`?since_id=${ids[2]}`))).toEqual(['4', '3']);
    expect((await requests('?limit=0')).json()).toEqual([]);
    expect((await requests('?max_id=zz')).statusCode).toBe(400);
  });

  it('shows one request; another account’s or a malformed id is a 404', async () => {
    const id = await requestIdOf('3');
    const res = await t.client(bob, 'GET', `/api/v1/notifications/requests/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, notifications_count: '1', account: { id: '3' }, last_status: { id: '30' } });
    expect(schemaErrors('NotificationRequest', res.json())).toEqual([]);
    const alice = await t.token('5', 'read write');
    for (const url of [`/api/v1/notifications/requests/${id}`, '/api/v1/notifications/requests/abc', '/api/v1/notifications/requests/999999']) {
      const r = await t.client(alice, 'GET', url);
      expect(r.statusCode).toBe(404);
      expect(r.json()).toEqual({ error: 'Record not found' });
    }
    for (const action of ['accept', 'dismiss']) {
      expect((await t.client(alice, 'POST', `/api/v1/notifications/requests/${id}/${action}`)).statusCode).toBe(404);
    }
    expect(actorsOf(await requests())).toEqual(['4', '3', '2']);
  });

  it('counts what is still filtered: dismissed notifications leave the count, an emptied request goes', async () => {
    await t.client(bob, 'POST', `/api/v1/notifications/${filtered['2'][1]}/dismiss`);
    expect((await requests()).json()[2]).toMatchObject({ notifications_count: '1', last_status: { id: '20' } });
    await t.client(bob, 'POST', `/api/v1/notifications/${filtered['3'][0]}/dismiss`);
    expect(actorsOf(await requests())).toEqual(['4', '2']);
    expect((await t.client(bob, 'GET', '/api/v2/notifications/policy')).json().summary).toEqual({
      pending_requests_count: 2,
      pending_notifications_count: 2,
    });
  });

  it('counts only filtered mentions and quotes: a filtered favourite from the same actor neither counts nor shows as last status', async () => {
    // Actor 2 also favourites a post of Bob's; not following them, Bob filters it too.
    await t.client(bob, 'PATCH', '/api/v2/notifications/policy', { for_not_following: 'filter' });
    await t.status('50', { author: '1' });
    const fav = await t.notify({ account_id: '1', type: 'favourite', from_account_id: '2', status_id: '50' });
    expect(fav.filtered).toBe(true);
    expect((await requests()).json()[2]).toMatchObject({ notifications_count: '2', last_status: { id: '21' } });
    expect((await t.client(bob, 'GET', '/api/v2/notifications/policy')).json().summary).toEqual({
      pending_requests_count: 3,
      pending_notifications_count: 4,
    });
    // An actor with only a filtered favourite has no request at all.
    await t.notify({ account_id: '1', type: 'favourite', from_account_id: '5', status_id: '50' });
    expect(actorsOf(await requests())).toEqual(['4', '3', '2']);
  });

  it('hides requests of suspended actors', async () => {
    await t.account('3', { suspended: true });
    expect(actorsOf(await requests())).toEqual(['4', '2']);
    expect((await t.client(bob, 'GET', '/api/v1/notifications/policy')).json().summary).toEqual({
      pending_requests_count: 2,
      pending_notifications_count: 3,
    });
    await t.account('3');
    expect(actorsOf(await requests())).toEqual(['4', '3', '2']);
  });

  it('accepts a request: the actor’s filtered notifications merge, later ones pass, the request goes', async () => {
    const id = await requestIdOf('2');
    const res = await t.client(bob, 'POST', `/api/v1/notifications/requests/${id}/accept`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    expect(await v1()).toEqual([...filtered['2']].reverse());
    const groups = (await t.client(bob, 'GET', '/api/v2/notifications')).json().notification_groups;
    expect(groups.map((g: { group_key: string }) => g.group_key)).toEqual(filtered['2'].map((n) => `ungrouped-${n}`).reverse());
    expect((await t.client(bob, 'GET', `/api/v1/notifications/requests/${id}`)).statusCode).toBe(404);
    expect((await t.client(bob, 'GET', '/api/v1/notifications/requests/merged')).json()).toEqual({ merged: true });
    const later = await directMention('2', '22');
    expect(later).not.toHaveProperty('filtered');
    expect(actorsOf(await requests())).toEqual(['4', '3']);
  });

  it('dismisses a request with its filtered notifications; a later mention opens a new one', async () => {
    const id = await requestIdOf('2');
    const res = await t.client(bob, 'POST', `/api/v1/notifications/requests/${id}/dismiss`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    expect(actorsOf(await requests())).toEqual(['4', '3']);
    for (const n of filtered['2']) expect((await t.client(bob, 'GET', `/api/v1/notifications/${n}`)).statusCode).toBe(404);
    expect(await v1('?include_filtered=true')).toEqual([filtered['4'][0], filtered['3'][0]]);
    expect((await t.client(bob, 'POST', `/api/v1/notifications/requests/${id}/dismiss`)).statusCode).toBe(404);
    const again = await directMention('2', '23');
    expect(again).toMatchObject({ filtered: true });
    const reopened = (await requests()).json()[0];
    expect(reopened).toMatchObject({ account: { id: '2' }, notifications_count: '1' });
    expect(reopened.id).not.toBe(id);
  });

  it('accepts and dismisses in bulk with id[] (form or JSON), ignoring ids that are not the caller’s', async () => {
    await directMention('2', '50', '5');
    const alice = await t.token('5', 'read write');
    const foreign = (await t.client(alice, 'GET', '/api/v1/notifications/requests')).json()[0].id;
    const [r2, r3, r4] = [await requestIdOf('2'), await requestIdOf('3'), await requestIdOf('4')];
    const accepted = await form(t, bob, 'POST', '/api/v1/notifications/requests/accept', `id[]=${r2}&id[]=${r3}&id[]=${foreign}&id[]=nope`);
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toEqual({});
    expect(actorsOf(await requests())).toEqual(['4']);
    expect(await v1()).toEqual([filtered['3'][0], ...[...filtered['2']].reverse()]);
    const dismissed = await t.client(bob, 'POST', '/api/v1/notifications/requests/dismiss', { id: [r4, foreign] });
    expect(dismissed.json()).toEqual({});
    expect((await requests()).json()).toEqual([]);
    expect((await t.client(bob, 'GET', `/api/v1/notifications/${filtered['4'][0]}`)).statusCode).toBe(404);
    expect((await t.client(alice, 'GET', '/api/v1/notifications/requests')).json()).toHaveLength(1);
    expect((await t.client(bob, 'POST', '/api/v1/notifications/requests/accept', {})).json()).toEqual({});
  });

  it('asks for read to look and write to act', async () => {
    const readOnly = await t.token('1', 'read:notifications');
    const id = await requestIdOf('2');
    expect((await t.client(readOnly, 'GET', '/api/v1/notifications/requests')).statusCode).toBe(200);
    expect((await t.client(readOnly, 'GET', `/api/v1/notifications/requests/${id}`)).statusCode).toBe(200);
    expect((await t.client(readOnly, 'GET', '/api/v1/notifications/requests/merged')).statusCode).toBe(200);
    for (const url of [`/api/v1/notifications/requests/${id}/accept`, `/api/v1/notifications/requests/${id}/dismiss`, '/api/v1/notifications/requests/accept', '/api/v1/notifications/requests/dismiss']) {
      const res = await t.client(readOnly, 'POST', url, { id: [id] });
      expect(res.statusCode).toBe(403);
    }
    expect(actorsOf(await requests())).toEqual(['4', '3', '2']);
  });
});
