// Several real processes on one PostgreSQL (SPEC §8.7, §16): two `herald web` and two `herald worker`
// processes on a fresh database. Pushes arrive once each in normal running; a worker killed with SIGKILL
// mid-send loses nothing, duplicates at most what it had in flight, and its deliveries are taken over
// within 1.5 leases; a web process killed mid-ingest leaves every acknowledged event stored and no batch
// half-applied; the 401/403 breaker deletes at most 2 subscriptions of an origin whichever worker sees
// the refusals; and a token's rate limit holds across two web processes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SYNC_EVERY_MS } from '../../src/http/rate-limit.js';
import { accountJson } from '../support/fixtures.js';
import { freePort } from '../support/free-port.js';
import { startHerald, type HeraldProcess, waitForReady, callAdmin } from '../support/herald-process.js';
import { withPgClient } from '../support/pg-client.js';
import { startPushReceiver, type BrowserSubscription, type PushReceiver, type ReceivedPush } from '../support/push-receiver.js';

const ADMIN = 'e2e-admin-token-0123456789';
const LEASE_MS = 3000;
/** DEFAULT_CONCURRENCY of the delivery worker: sends one worker has in flight at most. */
const WORKER_CONCURRENCY = 64;

interface Web {
  readonly url: string;
  readonly process: HeraldProcess;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('2 web and 2 worker processes on one PostgreSQL', () => {
  const server = inject('postgresUrl');
  let database: string;
  let databaseUrl: string;
  let dataDir: string;
  let pool: pg.Pool;
  const started: HeraldProcess[] = [];
  const receivers: PushReceiver[] = [];
  const webs: Web[] = [];
  const workers: HeraldProcess[] = [];
  /** The receiver of the normal-running and ingest checks. */
  let receiver: PushReceiver;

  const env = (port: number, extra: Record<string, string> = {}): Record<string, string> => ({
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    HERALD_DATA_DIR: dataDir,
    HERALD_ADMIN_TOKEN: ADMIN,
    HERALD_PUSH_ALLOW_PRIVATE: '127.0.0.1',
    HERALD_VAPID_SUBJECT: 'mailto:e2e@herald.test',
    HERALD_PUSH_LEASE_MS: String(LEASE_MS),
    // Nothing here should be retried; if something is, it should not wait the default 10 s.
    HERALD_PUSH_RETRY_BASE_MS: '200',
    HERALD_RATE_LIMITS: 'off',
    LOG_LEVEL: 'warn',
    ...extra,
  });

  async function start(role: 'web' | 'worker', extra: Record<string, string> = {}): Promise<Web> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const process = startHerald(role, env(port, extra));
    started.push(process);
    await waitForReady(url, process);
    return { url, process };
  }

  async function newReceiver(): Promise<PushReceiver> {
    const r = await startPushReceiver();
    receivers.push(r);
    return r;
  }

  beforeAll(async () => {
    // A database of its own: the processes use the default schema, and LISTEN/NOTIFY is per database.
    database = `herald_mp_${randomBytes(4).toString('hex')}`;
    await withPgClient(server, (c) => c.query(`create database ${database}`));
    const url = new URL(server);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-mp-'));
    pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    receiver = await newReceiver();
    // All four at once, as a deployment starts them: one applies the migrations and stores the VAPID key pair
    // and the push secret, the others wait for the migration lock and find both.
    const [first, second, w0, w1] = await Promise.all([start('web'), start('web'), start('worker'), start('worker')]);
    webs.push(first, second);
    workers.push(w0.process, w1.process);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(
      started.map(async (p) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return;
        await Promise.race([p.kill('SIGTERM'), sleep(5000)]);
        if (p.child.exitCode === null && p.child.signalCode === null) await p.kill('SIGKILL');
      }),
    );
    await Promise.all(receivers.map((r) => r.close()));
    await pool?.end();
    if (database) await withPgClient(server, (c) => c.query(`drop database if exists ${database} with (force)`));
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  // ---- helpers over HTTP and SQL ----

  const admin = (base: string, method: string, route: string, body?: unknown) => callAdmin(base, ADMIN, method, route, body);

  /** Upserts accounts, a few requests at a time, spread over the live web processes. */
  async function putAccounts(ids: readonly number[], bases: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 25) {
      await Promise.all(ids.slice(i, i + 25).map((id, j) => admin(bases[j % bases.length], 'PUT', `/accounts/${id}`, accountJson(String(id)))));
    }
  }

  /** A push token for the account and its subscription at `browser` (follow alerts on), made through `base`. */
  async function subscribe(base: string, accountId: number, browser: BrowserSubscription): Promise<string> {
    const { access_token: token } = await admin(base, 'POST', '/tokens', { account_id: String(accountId), scopes: 'push' });
    const res = await fetch(`${base}/api/v1/push/subscription`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subscription: { endpoint: browser.endpoint, keys: browser.keys }, data: { alerts: { follow: true } } }),
    });
    if (res.status !== 200) throw new Error(`subscribing account ${accountId}: ${res.status} ${await res.text()}`);
    return token as string;
  }

  const follow = (recipient: number, actor: number) => ({ account_id: String(recipient), type: 'follow', from_account_id: String(actor) });

  async function ingestBatch(base: string, events: readonly ReturnType<typeof follow>[]): Promise<string[]> {
    const { results } = await admin(base, 'POST', '/notifications/batch', { events });
    expect(results).toHaveLength(events.length);
    for (const result of results) expect(result.dropped).toBeUndefined();
    return results.map((r: { id: string }) => r.id);
  }

  async function count(query: string, params: unknown[] = []): Promise<number> {
    const { rows } = await pool.query(query, params);
    return Number(rows[0].n);
  }

  async function until(ready: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(25);
    }
  }

  /** The notification id each push of `browser` carries, decrypted by http_ece. */
  const decrypted = new WeakMap<ReceivedPush, number>();
  const idOf = (browser: BrowserSubscription, push: ReceivedPush): number => {
    let id = decrypted.get(push);
    if (id === undefined) {
      id = JSON.parse(browser.decrypt(push)).notification_id as number;
      decrypted.set(push, id);
    }
    return id;
  };
  const idsOf = (browser: BrowserSubscription): number[] => browser.received().map((push) => idOf(browser, push));

  const queued = (subscriptionIds?: readonly number[]): Promise<number> =>
    subscriptionIds
      ? count('select count(*) as n from deliveries where subscription_id = any($1::bigint[])', [subscriptionIds])
      : count('select count(*) as n from deliveries');

  async function subscriptionIdsOf(accounts: readonly number[]): Promise<number[]> {
    const { rows } = await pool.query('select id from push_subscriptions where account_id = any($1::text[])', [accounts.map(String)]);
    return rows.map((r) => Number(r.id));
  }

  // ---- the checks ----

  it('delivers every push exactly once in normal running', { timeout: 60_000 }, async () => {
    const bases = webs.map((w) => w.url);
    const recipients = range(1, 20);
    await putAccounts([...recipients, ...range(1000, 1199)], bases);
    const browsers = new Map<number, BrowserSubscription>();
    await Promise.all(
      recipients.map(async (account) => {
        const browser = receiver.browser(`/normal/${account}`);
        browsers.set(account, browser);
        await subscribe(bases[account % 2], account, browser);
      }),
    );

    // 200 follows, each from an actor of its own (nothing is de-duplicated), in 10 batches alternating processes.
    const expected = new Map<number, number[]>(recipients.map((r) => [r, []]));
    await Promise.all(
      range(0, 9).map(async (batch) => {
        const events = range(batch * 20, batch * 20 + 19).map((i) => follow((i % 20) + 1, 1000 + i));
        const ids = await ingestBatch(bases[batch % 2], events);
        events.forEach((event, j) => expected.get(Number(event.account_id))!.push(Number(ids[j])));
      }),
    );

    const total = () => [...browsers.values()].reduce((n, b) => n + b.received().length, 0);
    await receiver.waitFor(() => total() >= 200, 30_000, '200 pushes');
    await until(async () => (await queued()) === 0, 20_000, 'an empty outbox');
    // Anything sent twice would be on its way by now.
    await sleep(500);
    expect(total()).toBe(200);
    for (const [account, browser] of browsers) {
      const ids = idsOf(browser).sort((a, b) => a - b);
      expect(ids, `pushes of account ${account}`).toEqual(expected.get(account)!.sort((a, b) => a - b));
    }
  });

  it('deletes at most 2 subscriptions of an origin that refuses them all, whichever worker hears it', { timeout: 60_000 }, async () => {
    // An origin of its own: the pause it earns must not hold up the other checks' pushes.
    const refusing = await newReceiver();
    refusing.scriptDefault([{ status: 403 }]);
    const bases = webs.map((w) => w.url);
    const accounts = range(41, 46);
    await putAccounts([...accounts, ...range(1000, 1005)], bases);
    const tokens = await Promise.all(accounts.map((account) => subscribe(bases[account % 2], account, refusing.browser(`/refuse/${account}`))));
    const subscriptions = await subscriptionIdsOf(accounts);
    expect(subscriptions).toHaveLength(6);

    await Promise.all(accounts.map((account, i) => admin(bases[i % 2], 'POST', '/notifications', follow(account, 1000 + i))));
    // Settled: every delivery is gone with its subscription or parked until the pause ends.
    const soon = () => Date.now() + 60_000;
    await until(
      async () =>
        (await count(
          'select count(*) as n from deliveries where subscription_id = any($1::bigint[]) and (lease_until is not null or next_attempt_at < $2)',
          [subscriptions, soon()],
        )) === 0,
      20_000,
      'every refused delivery deleted or paused',
    );

    const statuses = await Promise.all(
      tokens.map(async (token, i) => (await fetch(`${bases[i % 2]}/api/v1/push/subscription`, { headers: { authorization: `Bearer ${token}` } })).status),
    );
    const deleted = statuses.filter((s) => s === 404).length;
    console.log(`breaker: ${refusing.received.length} refused pushes sent, ${deleted} of 6 subscriptions deleted, statuses ${statuses.join(',')}`);
    expect(statuses.every((s) => s === 200 || s === 404)).toBe(true);
    expect(deleted).toBeLessThanOrEqual(2);
    expect(await count('select count(*) as n from push_subscriptions where id = any($1::bigint[])', [subscriptions])).toBe(6 - deleted);
    // The breaker tripped, in the database where both workers read it.
    expect(await count('select count(*) as n from origin_pauses where origin = $1 and paused_until > $2', [refusing.url, Date.now()])).toBe(1);
  });

  it('loses no push when a worker is killed mid-send, and the other takes its deliveries over within 1.5 leases', { timeout: 90_000 }, async () => {
    const bases = webs.map((w) => w.url);
    const DELAY_MS = 1000;
    // Eight origins, so each worker's 16 connections per origin let all 64 of its sends reach a receiver.
    const slow = await Promise.all(range(0, 7).map(() => newReceiver()));
    // 136 pushes: 64 for each worker to hold while the receivers take their time, and 8 waiting; few enough
    // that the live worker has its slots free again when the dead one's leases run out.
    const PUSHES = 2 * WORKER_CONCURRENCY + 8;
    const accounts = range(21, 28);
    await putAccounts([...accounts, ...range(1000, 1000 + PUSHES - 1)], bases);
    const browsers = new Map<number, BrowserSubscription>();
    await Promise.all(
      accounts.map(async (account, k) => {
        const browser = slow[k].browser(`/slow/${account}`);
        slow[k].script(browser.path, [{ status: 201, delayMs: DELAY_MS }]);
        browsers.set(account, browser);
        await subscribe(bases[k % 2], account, browser);
      }),
    );
    const subscriptions = await subscriptionIdsOf(accounts);

    const events = range(0, PUSHES - 1).map((i) => follow(21 + (i % 8), 1000 + i));
    const expected = new Map<number, number[]>(accounts.map((a) => [a, []]));
    const ids = await ingestBatch(bases[0], events);
    events.forEach((event, j) => expected.get(Number(event.account_id))!.push(Number(ids[j])));

    const arrived = () => slow.reduce((n, r) => n + r.received.length, 0);
    await until(() => arrived() > 0, 15_000, 'the first slow push');
    const firstAt = Date.now();
    // Both workers full (128 sends at the receivers), or as full as they get before the first answers.
    await until(() => arrived() >= 2 * WORKER_CONCURRENCY || Date.now() - firstAt > DELAY_MS / 2, 10_000, 'sends in flight');
    const victim = workers[0];
    expect(await victim.kill('SIGKILL')).toBe('SIGKILL');
    const killedAt = Date.now();
    const arrivedAtKill = arrived();
    // What was leased at the kill: the dead worker's claims and the live one's.
    const { rows: leased } = await pool.query('select id, lease_until from deliveries where subscription_id = any($1::bigint[]) and lease_until > $2', [
      subscriptions,
      killedAt,
    ]);
    expect(arrivedAtKill).toBeGreaterThan(0);
    expect(arrivedAtKill).toBeLessThan(PUSHES);

    // The live worker renews its leases every second (or finishes the sends); the dead one's stay as they were.
    await sleep(1500);
    const { rows: still } = await pool.query('select id, lease_until from deliveries where id = any($1::bigint[])', [leased.map((r) => r.id)]);
    const before = new Map(leased.map((r) => [Number(r.id), Number(r.lease_until)]));
    const orphaned = new Set(still.filter((r) => before.get(Number(r.id)) === Number(r.lease_until)).map((r) => Number(r.id)));
    const { rows: orphanRows } = await pool.query(
      'select d.notification_id, s.account_id from deliveries d join push_subscriptions s on s.id = d.subscription_id where d.id = any($1::bigint[])',
      [[...orphaned]],
    );
    const orphans = orphanRows.map((r) => ({ account: Number(r.account_id), notification: Number(r.notification_id) }));

    // No loss: every notification reaches its subscription.
    const distinct = () => [...browsers.values()].reduce((n, b) => n + new Set(idsOf(b)).size, 0);
    await until(() => distinct() === PUSHES, 30_000, 'every push after the kill');
    await until(async () => (await queued(subscriptions)) === 0, 20_000, 'an empty outbox');
    const drainedMs = Date.now() - killedAt;
    await sleep(300);

    for (const [account, browser] of browsers) {
      expect(new Set(idsOf(browser)), `pushes of account ${account}`).toEqual(new Set(expected.get(account)));
    }
    const total = [...browsers.values()].reduce((n, b) => n + b.received().length, 0);
    const duplicates = total - PUSHES;

    // Takeover: the dead worker's deliveries arrive again from the live one (arrivals in the first second after
    // the kill could still be the dead worker's own requests crossing the wire).
    expect(orphans.length).toBeGreaterThan(0);
    const resentAt = orphans.map(({ account, notification }) => {
      const browser = browsers.get(account)!;
      const again = browser.received().filter((p) => p.at > killedAt + 1000 && idOf(browser, p) === notification);
      expect(again.length, `notification ${notification} sent again`).toBeGreaterThan(0);
      return Math.min(...again.map((p) => p.at));
    });
    const takeoverMs = Math.min(...resentAt) - killedAt;
    const lastTakeoverMs = Math.max(...resentAt) - killedAt;
    console.log(
      `worker kill: ${arrivedAtKill} of ${PUSHES} pushes arrived at the kill, ${leased.length} leased, ${orphans.length} left by the dead worker; ` +
        `its leases ran out ${Math.max(...[...orphaned].map((id) => before.get(id)!)) - killedAt} ms after the kill; ` +
        `${duplicates} duplicates; its deliveries arrived again from ${takeoverMs} to ${lastTakeoverMs} ms after the kill; outbox empty after ${drainedMs} ms`,
    );
    expect(duplicates).toBeGreaterThanOrEqual(0);
    expect(duplicates).toBeLessThanOrEqual(WORKER_CONCURRENCY);
    expect(orphans.length).toBeLessThanOrEqual(WORKER_CONCURRENCY);
    // SPEC §16: taken over within 1.5 leases, all of them: the live worker has free slots by then. The margin
    // (the receiver's delay) covers the claim, encryption and the hop to the receiver on a busy machine.
    expect(takeoverMs).toBeLessThanOrEqual(1.5 * LEASE_MS + DELAY_MS);
    expect(lastTakeoverMs).toBeLessThanOrEqual(1.5 * LEASE_MS + DELAY_MS);
  });

  it('keeps every acknowledged event and no half batch when a web process is killed mid-ingest', { timeout: 60_000 }, async () => {
    const [victim, survivor] = webs;
    const recipients = range(301, 325);
    const batchActors = range(2000, 2039);
    const singleActors = range(2100, 2159);
    await putAccounts([...recipients, ...batchActors, ...singleActors], [survivor.url]);
    // Account 301 has a subscription: what is stored for it must be pushed, what is not must not be.
    const browser = receiver.browser('/ingest/301');
    await subscribe(survivor.url, 301, browser);

    type Task = { kind: 'batch' | 'single'; actor: number; body: unknown; acked?: string[]; error?: string };
    const tasks: Task[] = [];
    for (let i = 0; i < 60; i++) {
      if (i < 40) {
        const actor = batchActors[i];
        tasks.push({ kind: 'batch', actor, body: { events: recipients.map((r) => follow(r, actor)) } });
      }
      tasks.push({ kind: 'single', actor: singleActors[i], body: follow(301, singleActors[i]) });
    }

    let acked = 0;
    let killed: Promise<number | string> | undefined;
    let next = 0;
    const send = async (task: Task): Promise<void> => {
      const route = task.kind === 'batch' ? '/notifications/batch' : '/notifications';
      try {
        const res = await fetch(`${victim.url}/api/admin/v1${route}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify(task.body),
        });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`HTTP ${res.status} ${text}`);
        const json = JSON.parse(text);
        task.acked = task.kind === 'batch' ? json.results.map((r: { id: string }) => r.id) : [json.id];
        acked++;
      } catch (error) {
        task.error = String(error);
      }
      // SIGKILL once a third of the requests were answered, with others on the wire.
      if (acked >= 30 && !killed) killed = victim.process.kill('SIGKILL');
    };
    await Promise.all(
      range(1, 6).map(async () => {
        while (next < tasks.length) await send(tasks[next++]);
      }),
    );
    expect(await killed).toBe('SIGKILL');
    const failed = tasks.filter((t) => !t.acked);
    console.log(`web kill: ${tasks.length - failed.length} of ${tasks.length} ingests acknowledged before the kill`);
    expect(failed.length).toBeGreaterThan(0);

    // What the database holds, per actor: all of a batch or none of it, and everything acknowledged.
    const { rows } = await pool.query(
      'select from_account_id, count(*) as n from notifications where from_account_id = any($1::text[]) group by from_account_id',
      [[...batchActors, ...singleActors].map(String)],
    );
    const stored = new Map(rows.map((r) => [Number(r.from_account_id), Number(r.n)]));
    let storedUnacked = 0;
    for (const task of tasks) {
      const n = stored.get(task.actor) ?? 0;
      const size = task.kind === 'batch' ? recipients.length : 1;
      expect([0, size], `${task.kind} of actor ${task.actor}`).toContain(n);
      if (task.acked) expect(n, `acknowledged ${task.kind} of actor ${task.actor}`).toBe(size);
      else if (n > 0) storedUnacked++;
    }
    const ackedIds = tasks.flatMap((t) => t.acked ?? []).map(Number);
    expect(await count('select count(*) as n from notifications where id = any($1::bigint[])', [ackedIds])).toBe(ackedIds.length);
    console.log(`web kill: ${storedUnacked} unacknowledged ingests committed anyway (whole), ${failed.length - storedUnacked} not at all`);

    // Stored for account 301 means pushed (by the worker still alive), and nothing else is.
    const { rows: own } = await pool.query("select id from notifications where account_id = '301'");
    const storedFor301 = own.map((r) => Number(r.id)).sort((a, b) => a - b);
    await receiver.waitFor(() => new Set(idsOf(browser)).size >= storedFor301.length, 20_000, 'the pushes of account 301');
    expect([...new Set(idsOf(browser))].sort((a, b) => a - b)).toEqual(storedFor301);

    // The other process answers for what was stored through the dead one.
    const { access_token: reader } = await admin(survivor.url, 'POST', '/tokens', { account_id: '301', scopes: 'read' });
    const listed = await fetch(`${survivor.url}/api/v1/notifications?limit=80`, { headers: { authorization: `Bearer ${reader}` } });
    expect(listed.status).toBe(200);
    const listedIds = ((await listed.json()) as { id: string }[]).map((n) => Number(n.id)).sort((a, b) => a - b);
    expect(listedIds).toEqual(storedFor301.slice(-80));
  });

  it('holds a token to its rate limit across two web processes', { timeout: 60_000 }, async () => {
    const limited = await Promise.all([start('web', { HERALD_RATE_LIMITS: 'on' }), start('web', { HERALD_RATE_LIMITS: 'on' })]);
    await admin(limited[0].url, 'PUT', '/accounts/9001', accountJson('9001'));
    const { access_token: token } = await admin(limited[0].url, 'POST', '/tokens', { account_id: '9001', scopes: 'read' });
    // Windows are fixed 5-minute slots: do not straddle the end of one.
    const WINDOW = 5 * 60_000;
    const left = WINDOW - (Date.now() % WINDOW);
    if (left < 15_000) await sleep(left + 200);

    let first429: number | undefined;
    for (let i = 1; i <= 400 && first429 === undefined; i++) {
      const res = await fetch(`${limited[i % 2].url}/api/v1/notifications?limit=1`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status === 429) first429 = i;
      else expect(res.status).toBe(200);
      await sleep(5);
    }
    console.log(`rate limit: first 429 at request ${first429} (limit 300 per token, two processes)`);
    expect(first429).toBeDefined();
    expect(first429!).toBeLessThanOrEqual(330);
    expect(first429!).toBeGreaterThanOrEqual(270);
    // Both processes refuse from then on. A process learns the others' counts when it next syncs its own
    // (every SYNC_EVERY_MS while it takes requests), so the one that answered last before the 429 may let
    // one more request through on a view one interval old, never more.
    for (const web of limited) {
      let allowed = 0;
      let res: Response;
      for (;;) {
        await sleep(SYNC_EVERY_MS * 4);
        res = await fetch(`${web.url}/api/v1/notifications?limit=1`, { headers: { authorization: `Bearer ${token}` } });
        if (res.status !== 200) break;
        await res.arrayBuffer();
        allowed++;
        expect(allowed, 'requests let through after the shared limit was reached').toBeLessThanOrEqual(1);
      }
      expect(res.status).toBe(429);
      expect(await res.json()).toEqual({ error: 'Too many requests' });
    }
  });
});
