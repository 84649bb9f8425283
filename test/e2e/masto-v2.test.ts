// End to end: the real server over HTTP, driven by masto.js (a client library we did not write) through
// grouped notifications, the filtering policy and notification requests.
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRestAPIClient, MastoHttpError, type mastodon } from 'masto';
import { createTestApp, ENGINES, type TestApp } from '../support/test-app.js';
import { schemaErrors } from '../support/openapi.js';

describe.each(ENGINES)('masto.js against a live server, grouped notifications and filtering, on %s', (engine) => {
  let t: TestApp;
  let client: mastodon.rest.Client;
  let url: string;
  const ids: string[] = [];

  beforeEach(async () => {
    t = await createTestApp(engine);
    for (const id of ['1', '2', '3', '4', '5', '6']) await t.account(id);
    await t.status('10', { author: '1' });
    await t.status('11', { author: '1' });
    await t.status('12', { author: '6', visibility: 'direct' });
    ids.length = 0;
    const events = [
      { type: 'favourite', from_account_id: '2', status_id: '10' },
      { type: 'favourite', from_account_id: '3', status_id: '10' },
      { type: 'follow', from_account_id: '2' },
      { type: 'reblog', from_account_id: '4', status_id: '11' },
      { type: 'favourite', from_account_id: '4', status_id: '10' },
      { type: 'follow', from_account_id: '5' },
      { type: 'mention', from_account_id: '5', status_id: '11' },
    ];
    for (const e of events) {
      t.clock.now += 1000;
      ids.push((await t.notify({ account_id: '1', ...e })).id);
    }
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    client = createRestAPIClient({ url, accessToken: await t.token('1', 'read write') });
  });
  afterEach(() => t.close());

  it('pages through every group with the Link header, groups narrowed by groupedTypes', async () => {
    const pages: mastodon.v1.GroupedNotificationsResults[] = [];
    for await (const page of client.v2.notifications.list({ limit: 2, groupedTypes: ['favourite', 'follow'] as never })) {
      pages.push(page);
    }
    // A group met again below the cursor comes back, counted up to that page's top (clients merge by key).
    expect(pages.map((p) => p.notificationGroups.length)).toEqual([2, 2, 2, 1]);
    const groups = pages.flatMap((p) => p.notificationGroups);
    expect(groups.map((g) => [g.type, g.notificationsCount])).toEqual([
      ['mention', 1],
      ['follow', 2],
      ['favourite', 3],
      ['reblog', 1],
      ['follow', 1],
      ['favourite', 2],
      ['favourite', 1],
    ]);
    expect(new Set(groups.map((g) => g.groupKey)).size).toBe(4);
    // Reblogs may not group here: masto sees it as ungrouped-<id>.
    expect(groups[3].groupKey).toBe(`ungrouped-${ids[3]}`);
    expect(groups[2].sampleAccountIds).toEqual(['4', '3', '2']);
    expect(typeof groups[0].mostRecentNotificationId).toBe('number');
    expect(pages[0].accounts.map((a: mastodon.v1.Account) => a.id).sort()).toEqual(['2', '5']);
  });

  it('fetches one group, its accounts, and dismisses it', async () => {
    const [, follow] = (await client.v2.notifications.list({ limit: 2 })).notificationGroups;
    const one = await client.v2.notifications.$select(follow.groupKey).fetch();
    expect(one.notificationGroups).toEqual([
      expect.objectContaining({ groupKey: follow.groupKey, type: 'follow', notificationsCount: 2, sampleAccountIds: ['5', '2'] }),
    ]);
    const accounts = await client.v2.notifications.$select(follow.groupKey).accounts.fetch();
    expect(accounts.map((a) => a.acct)).toEqual(['user5', 'user2']);
    await client.v2.notifications.$select(follow.groupKey).dismiss();
    const error = await client.v2.notifications.$select(follow.groupKey).fetch().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MastoHttpError);
    expect((error as MastoHttpError).statusCode).toBe(404);
    expect((await client.v1.notifications.list()).map((n) => n.id)).toEqual([ids[6], ids[4], ids[3], ids[1], ids[0]]);
  });

  it('counts unread groups against the marker', async () => {
    expect(await client.v2.notifications.unreadCount.fetch()).toEqual({ count: 4 });
    expect(await client.v2.notifications.unreadCount.fetch({ groupedTypes: ['follow'] as never })).toEqual({ count: 6 });
    await client.v1.markers.create({ notifications: { lastReadId: ids[4] } });
    expect(await client.v2.notifications.unreadCount.fetch()).toEqual({ count: 2 });
  });

  it('reads and updates the policy, then handles a request for a filtered private mention', async () => {
    const policy = await client.v2.notifications.policy.fetch();
    expect(policy).toMatchObject({ forPrivateMentions: 'filter', summary: { pendingRequestsCount: 0 } });
    const updated = await client.v2.notifications.policy.update({ forNotFollowing: 'filter', forBots: 'drop' } as never);
    expect(updated).toMatchObject({ forNotFollowing: 'filter', forPrivateMentions: 'filter', forBots: 'drop' });

    t.clock.now += 1000;
    const filtered = await t.notify({ account_id: '1', type: 'mention', from_account_id: '6', status_id: '12' });
    expect(filtered).toMatchObject({ filtered: true });
    expect(await client.v2.notifications.policy.fetch()).toMatchObject({
      summary: { pendingRequestsCount: 1, pendingNotificationsCount: 1 },
    });
    const requests = await client.v1.notifications.requests.list();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ account: { id: '6' }, lastStatus: { id: '12' } });
    const raw = await fetch(`${url}/api/v1/notifications/requests/${requests[0].id}`, {
      headers: { authorization: `Bearer ${await t.token('1', 'read')}` },
    });
    expect(schemaErrors('NotificationRequest', await raw.json())).toEqual([]);

    await client.v1.notifications.requests.$select(requests[0].id).accept();
    expect(await client.v1.notifications.requests.merged.fetch()).toEqual({ merged: true });
    expect(await client.v1.notifications.requests.list()).toEqual([]);
    const groups = (await client.v2.notifications.list()).notificationGroups;
    expect(groups[0]).toMatchObject({ groupKey: `ungrouped-${filtered.id}`, type: 'mention', statusId: '12' });
  });
});
