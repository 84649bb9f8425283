// Two real `herald web` processes on one PostgreSQL (SPEC §9, §13, §16): a notification ingested through one
// reaches a stream held by the other, and a token revoked through one loses its streams on the other
// within 5 s; a host token imported through one works at the other; and a page one keeps rendered shows
// every change made through the other (SPEC §16: a cache may not make processes disagree).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accountJson, statusJson } from '../support/fixtures.js';
import { freePort } from '../support/free-port.js';
import { startHerald, type HeraldProcess, waitForReady, callAdmin } from '../support/herald-process.js';
import { withPgClient } from '../support/pg-client.js';
import { openSse, openWebSocket, within } from '../support/stream-clients.js';

const ADMIN = 'e2e-admin-token-0123456789';

describe('two herald web processes on one PostgreSQL', () => {
  const processes: HeraldProcess[] = [];
  const urls: string[] = [];
  let database: string;
  const server = inject('postgresUrl');

  beforeAll(async () => {
    // A database of its own: the processes use the default schema, and LISTEN/NOTIFY is per database.
    database = `herald_mp_${randomBytes(4).toString('hex')}`;
    await withPgClient(server, (c) => c.query(`create database ${database}`));
    const url = new URL(server);
    url.pathname = `/${database}`;
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      urls.push(`http://127.0.0.1:${port}`);
      // The second waits for the first's migrations.
      const process = startHerald('web', {
        PORT: String(port),
        DATABASE_URL: url.toString(),
        HERALD_DATA_DIR: '/nonexistent-herald-data',
        HERALD_ADMIN_TOKEN: ADMIN,
        HERALD_VAPID_SUBJECT: 'mailto:e2e@herald.test',
        HERALD_RATE_LIMITS: 'off',
        LOG_LEVEL: 'warn',
      });
      processes.push(process);
      await waitForReady(urls[i], process);
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    await withPgClient(server, (c) => c.query(`drop database if exists ${database} with (force)`));
  });

  const admin = (base: string, method: string, route: string, body?: unknown) => callAdmin(base, ADMIN, method, route, body);

  it('streams a notification ingested by the other process, and closes streams revoked through the other', async () => {
    const [a, b] = urls;
    for (const id of ['1', '2', '3']) await admin(a, 'PUT', `/accounts/${id}`, accountJson(id));
    const own = (await admin(a, 'POST', '/tokens', { account_id: '1', scopes: 'read' })).access_token as string;
    await admin(a, 'POST', '/tokens', { access_token: 'host-session-token-1', account_id: '1', scopes: 'read' });
    const streams = [await openSse(b, own), await openWebSocket(b, own), await openSse(b, 'host-session-token-1'), await openWebSocket(b, 'host-session-token-1')];

    const first = await admin(a, 'POST', '/notifications', { account_id: '1', type: 'follow', from_account_id: '2' });
    for (const stream of streams) {
      await within(
        (async () => {
          while (!stream.received.includes(first.id)) await new Promise((resolve) => setTimeout(resolve, 20));
        })(),
        5000,
        'the notification on the other process',
      );
    }

    const revokedAt = Date.now();
    expect(await admin(a, 'POST', '/tokens/revoke', { account_id: '1' })).toEqual({ revoked: 2 });
    for (const stream of streams) expect((await within(stream.closed, 5000, 'stream closed on the other process')) - revokedAt).toBeLessThan(5000);
    await admin(a, 'POST', '/notifications', { account_id: '1', type: 'follow', from_account_id: '3' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const stream of streams) expect(stream.received).toEqual([first.id]);
    const refused = await fetch(`${b}/api/v1/notifications`, { headers: { authorization: 'Bearer host-session-token-1' } });
    expect(refused.status).toBe(401);
  });

  it('shows on one process every change made through the other, though it keeps rendered pages', async () => {
    const [a, b] = urls;
    for (const id of ['11', '12', '13']) await admin(a, 'PUT', `/accounts/${id}`, accountJson(id));
    await admin(a, 'PUT', '/statuses/110', statusJson('110', '11', { content: '<p>first</p>' }));
    const token = (await admin(a, 'POST', '/tokens', { account_id: '11', scopes: 'read write' })).access_token as string;
    await admin(a, 'POST', '/notifications', { account_id: '11', type: 'favourite', from_account_id: '12', status_id: '110' });
    await admin(a, 'POST', '/notifications', { account_id: '11', type: 'follow', from_account_id: '13' });
    const page = async (base: string, path: string) => {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return res.json() as Promise<any>;
    };
    const v1 = () => page(b, '/api/v1/notifications');
    const v2 = () => page(b, '/api/v2/notifications?expand_accounts=full');
    const hits = async () => Number(/herald_page_cache_total\{result="hit"\} (\d+)/.exec(await (await fetch(`${b}/metrics`)).text())?.[1] ?? 0);
    /** B renders and keeps both pages (a second read is a hit), A writes, B's next pages show the write. */
    const throughA = async (write: () => Promise<unknown>) => {
      await v1();
      await v2();
      const before = await hits();
      await v1();
      await v2();
      expect(await hits()).toBe(before + 2);
      await write();
    };

    await throughA(() => admin(a, 'PUT', '/accounts/13', accountJson('13', { display_name: 'Renamed' })));
    expect((await v1())[0].account.display_name).toBe('Renamed');
    expect((await v2()).accounts.find((x: { id: string }) => x.id === '13').display_name).toBe('Renamed');

    await throughA(() => admin(a, 'PUT', '/statuses/110', statusJson('110', '11', { content: '<p>edited</p>' })));
    expect((await v1())[1].status.content).toBe('<p>edited</p>');
    expect((await v2()).statuses[0].content).toBe('<p>edited</p>');

    await throughA(() => admin(a, 'POST', '/notifications', { account_id: '11', type: 'mention', from_account_id: '12', status_id: '110' }));
    expect((await v1()).map((n: { type: string }) => n.type)).toEqual(['mention', 'follow', 'favourite']);
    const newest = (await v1())[0].id;
    expect((await v2()).notification_groups).toHaveLength(3);

    await throughA(() => fetch(`${a}/api/v1/notifications/${newest}/dismiss`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }));
    expect((await v1()).map((n: { type: string }) => n.type)).toEqual(['follow', 'favourite']);
    expect((await v2()).notification_groups).toHaveLength(2);
  });
});
