// `account_id` on the v1 list and unread count (SPEC §4.1): one actor's notifications, filtered ones included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, ENGINES, type TestApp } from '../support/test-app.js';

describe.each(ENGINES)('v1 account_id on %s', (engine) => {
  let t: TestApp;
  let bob: string;
  let fromAlice: string[];
  let filtered: string;

  beforeAll(async () => {
    t = await createTestApp(engine);
    for (const id of ['1', '2', '3']) await t.account(id);
    await t.status('10', { author: '1' });
    // A direct mention from someone bob does not follow is filtered by the default policy (SPEC §7).
    await t.status('20', { author: '3', visibility: 'direct' });
    bob = await t.token('1', 'read');
    fromAlice = [
      (await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' })).id,
      (await t.notify({ account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' })).id,
    ];
    await t.notify({ account_id: '1', type: 'follow', from_account_id: '3' });
    const mention = await t.notify({ account_id: '1', type: 'mention', from_account_id: '3', status_id: '20' });
    expect(mention.filtered).toBe(true);
    filtered = mention.id;
  });
  afterAll(() => t.close());

  const ids = async (query: string) => {
    const res = await t.client(bob, 'GET', `/api/v1/notifications${query}`);
    expect(res.statusCode).toBe(200);
    return res.json().map((n: { id: string }) => n.id);
  };
  const count = async (query: string) => (await t.client(bob, 'GET', `/api/v1/notifications/unread_count${query}`)).json().count;

  it("lists only that actor's notifications, newest first", async () => {
    expect(await ids('?account_id=2')).toEqual([...fromAlice].reverse());
    expect(await count('?account_id=2')).toBe(2);
  });

  it('includes the filtered ones when account_id is given, and only then', async () => {
    expect(await ids('')).not.toContain(filtered);
    const fromThree = await ids('?account_id=3');
    expect(fromThree[0]).toBe(filtered);
    expect(fromThree).toHaveLength(2);
    expect(await count('?account_id=3')).toBe(2);
    expect(await count('')).toBe(3);
  });

  it('combines with types[] and carries account_id into the Link header', async () => {
    expect(await ids('?account_id=2&types[]=favourite')).toEqual([fromAlice[1]]);
    const res = await t.client(bob, 'GET', '/api/v1/notifications?account_id=2&limit=1');
    expect(res.headers.link).toContain('account_id=2&limit=1&max_id=');
  });

  it('answers an empty page for an unknown actor or one given as an array', async () => {
    expect(await ids('?account_id=nobody')).toEqual([]);
    // An array is not an id: the parameter is ignored, as a scalar array parameter is.
    expect(await ids('?account_id[]=2')).toHaveLength(3);
  });
});
