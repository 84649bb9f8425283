// The page cache (src/http/page-cache.ts): a repeated listing is served from it, and every kind of write
// that changes what a page shows is seen by the next read, v1 and v2, whichever path made the write.
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, ENGINES, type TestApp } from '../support/test-app.js';

const PAGES = ['/api/v1/notifications', '/api/v2/notifications?expand_accounts=full'];

describe.each(ENGINES)('the page cache on %s', (engine) => {
  let t: TestApp;
  let bob: string;

  beforeEach(async () => {
    t = await createTestApp(engine);
    for (const id of ['1', '2', '3']) await t.account(id, { display_name: `User ${id}` });
    await t.status('10', { author: '1', content: '<p>first</p>' });
    bob = await t.token('1', 'read write');
    await t.notify({ account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' });
    await t.notify({ account_id: '1', type: 'follow', from_account_id: '3' });
  });
  afterEach(() => t.close());

  const pages = async () => Promise.all(PAGES.map(async (url) => (await t.client(bob, 'GET', url)).body));
  const served = async (result: 'hit' | 'miss') => {
    const text = (await t.client(undefined, 'GET', '/metrics')).body;
    return Number(new RegExp(`herald_page_cache_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  /** Reads both pages twice (the second from the cache), writes, and expects both pages to change. */
  async function expectSeen(write: () => Promise<unknown>, check: (v1: any[], v2: any) => void) {
    const before = await pages();
    expect(await pages()).toEqual(before);
    await write();
    const after = await pages();
    for (let i = 0; i < PAGES.length; i++) expect(after[i], PAGES[i]).not.toBe(before[i]);
    check(JSON.parse(after[0]), JSON.parse(after[1]));
    // And the new page is what a fresh render gives: the next read, from the cache, is the same.
    expect(await pages()).toEqual(after);
  }

  it('serves a repeated page from the cache, byte for byte, and a different query apart', async () => {
    const first = await t.client(bob, 'GET', '/api/v1/notifications?limit=1');
    const hits = await served('hit');
    const again = await t.client(bob, 'GET', '/api/v1/notifications?limit=1');
    expect(await served('hit')).toBe(hits + 1);
    expect(again.body).toBe(first.body);
    expect(again.headers.link).toBe(first.headers.link);
    expect(again.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse((await t.client(bob, 'GET', '/api/v1/notifications?limit=2')).body)).toHaveLength(2);
    // Another recipient's page is never this one's.
    const carol = await t.token('2', 'read');
    expect(JSON.parse((await t.client(carol, 'GET', '/api/v1/notifications?limit=1')).body)).toEqual([]);
  });

  it('shows a new notification and a dismissed one gone', async () => {
    await expectSeen(
      () => t.notify({ account_id: '1', type: 'mention', from_account_id: '3', status_id: '10' }),
      (v1) => expect(v1.map((n) => n.type)).toEqual(['mention', 'follow', 'favourite']),
    );
    const newest = JSON.parse((await pages())[0])[0].id;
    await expectSeen(
      () => t.client(bob, 'POST', `/api/v1/notifications/${newest}/dismiss`),
      (v1) => expect(v1.map((n) => n.type)).toEqual(['follow', 'favourite']),
    );
  });

  it('shows an actor’s new name, its suspension, and its removal', async () => {
    await expectSeen(
      () => t.account('3', { display_name: 'Renamed' }),
      (v1, v2) => {
        expect(v1[0].account.display_name).toBe('Renamed');
        expect(v2.accounts.find((a: { id: string }) => a.id === '3').display_name).toBe('Renamed');
      },
    );
    await expectSeen(
      () => t.account('3', { display_name: 'Renamed', suspended: true }),
      (v1) => expect(v1.map((n) => n.account.id)).toEqual(['2']),
    );
    await expectSeen(
      () => t.admin('DELETE', '/accounts/2'),
      (v1) => expect(v1).toEqual([]),
    );
  });

  it('shows a status’s new text, and the status’s notifications gone with it', async () => {
    await expectSeen(
      () => t.status('10', { author: '1', content: '<p>edited</p>' }),
      (v1, v2) => {
        expect(v1[1].status.content).toBe('<p>edited</p>');
        expect(v2.statuses[0].content).toBe('<p>edited</p>');
      },
    );
    await expectSeen(
      () => t.admin('DELETE', '/statuses/10'),
      (v1) => expect(v1.map((n) => n.type)).toEqual(['follow']),
    );
  });

  it('shows a write that bypassed Herald’s code, made straight in the database', async () => {
    await expectSeen(
      () => sql`update notifications set filtered = 1 where type = 'follow'`.execute(t.store.db),
      (v1) => expect(v1.map((n) => n.type)).toEqual(['favourite']),
    );
  });

  it('renders every page when the cache is off', async () => {
    const off = await createTestApp(engine, { env: { HERALD_PAGE_CACHE_MB: '0' } });
    try {
      await off.account('1');
      const token = await off.token('1', 'read');
      expect((await off.client(token, 'GET', '/api/v1/notifications')).json()).toEqual([]);
      await off.account('2');
      await off.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
      expect((await off.client(token, 'GET', '/api/v1/notifications')).json()).toHaveLength(1);
      expect((await off.client(undefined, 'GET', '/metrics')).body).not.toMatch(/herald_page_cache_total\{/);
    } finally {
      await off.close();
    }
  });
});
