// Durability (SPEC §8.7): a delivery process killed with SIGKILL in the middle of 1,000 due pushes loses
// none of them. After a restart every push arrives, and the only duplicates are pushes that were in
// flight (leased) when the process died.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestEvents } from '../../src/services/ingest.js';
import { createLocalBus } from '../../src/services/notification-bus.js';
import { loadPushSecrets, tokenContext } from '../../src/services/push-secrets.js';
import { upsertAccount, upsertStatus } from '../../src/store/accounts.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { openStore, type Store } from '../../src/store/open-store.js';
import { replaceSubscription } from '../../src/store/push-subscriptions.js';
import { hashToken, insertToken } from '../../src/store/tokens.js';
import { startHerald, type HeraldProcess } from '../support/herald-process.js';
import { createBrowser, startPushReceiver, type PushReceiver } from '../support/push-receiver.js';
import { accountJson, statusJson } from '../support/fixtures.js';

const PUSHES = 1000;

describe('a delivery worker killed with SIGKILL', () => {
  let dataDir: string;
  let store: Store;
  let receiver: PushReceiver;
  const processes: HeraldProcess[] = [];

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-crash-'));
    store = openStore({ dataDir });
    await migrateToLatest(store.db, store.dialect);
    receiver = await startPushReceiver();
  });
  afterEach(async () => {
    for (const p of processes.splice(0)) await p.kill('SIGKILL');
    idOf.clear();
    await receiver.close();
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const env = () => ({
    HERALD_DATA_DIR: dataDir,
    HERALD_PUBLIC_URL: 'https://herald.test',
    HERALD_PUSH_ALLOW_PRIVATE: '127.0.0.1',
    HERALD_VAPID_SUBJECT: 'mailto:crash@herald.test',
    HERALD_ADMIN_TOKEN: 'crash-test-admin-token',
    // The worker's probes listen on a port of their own choosing.
    PORT: '0',
    LOG_LEVEL: 'warn',
  });
  const worker = () => {
    const p = startHerald('worker', env());
    processes.push(p);
    return p;
  };

  it('loses no push, and duplicates at most the pushes in flight', { timeout: 120_000 }, async () => {
    const now = Date.now();
    for (const id of ['1', '2']) {
      const json = JSON.stringify(accountJson(id));
      await upsertAccount(store.db, { id, username: `user${id}`, acct: `user${id}`, json, locale: null, suspended: 0, bot: 0, limited: 0, created_at: null, updated_at: now });
    }
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < PUSHES; i++) {
        await upsertStatus(trx, { id: `s${i}`, account_id: '1', visibility: 'public', json: JSON.stringify(statusJson(`s${i}`, '1')), updated_at: now });
      }
    });
    const plain = 'crash-test-access-token';
    const token = await insertToken(store.db, { token_hash: hashToken(plain), account_id: '1', scopes: 'push', client_name: null, created_at: now });
    const browser = createBrowser(receiver.url, '/push/crash', receiver.received);
    const secrets = await loadPushSecrets(store.db);
    await replaceSubscription(store.db, store.dialect, {
      token_id: token.id,
      account_id: '1',
      endpoint: browser.endpoint,
      p256dh: browser.keys.p256dh,
      auth: browser.keys.auth,
      standard: 1,
      alerts: JSON.stringify({ mention: true }),
      policy: 'all',
      access_token_enc: secrets.tokenCipher.seal(plain, tokenContext(token.id)),
    }, now);
    const events = Array.from({ length: PUSHES }, (_, i) => ({ account_id: '1', type: 'mention', from_account_id: '2', status_id: `s${i}` }));
    await ingestEvents({ db: store.db, bus: createLocalBus(), now: Date.now }, events, true);
    expect(await countDeliveries()).toBe(PUSHES);

    // Slow answers keep many pushes in flight, so the kill lands mid-send.
    receiver.scriptDefault([{ status: 201, delayMs: 40 }]);
    const first = worker();
    await receiver.waitFor(() => receiver.received.length >= 300, 60_000, '300 pushes before the kill');
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');
    const receivedAtKill = receiver.received.length;
    const leased = await store.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('lease_until', '>', Date.now())
      .executeTakeFirstOrThrow();
    const inFlight = Number(leased.n);
    expect(receivedAtKill).toBeLessThan(PUSHES);
    expect(inFlight).toBeGreaterThan(0);
    expect(inFlight).toBeLessThanOrEqual(64);
    // The dead worker's leases would run out by themselves after DEFAULT_LEASE_MS (two minutes; the
    // outbox contract test shows expired leases being claimed again). Expire them now to keep this fast.
    await store.db.updateTable('deliveries').set({ next_attempt_at: Date.now(), lease_until: Date.now() }).where('lease_until', 'is not', null).execute();

    const second = worker();
    await receiver.waitFor(() => distinctIds().size === PUSHES, 90_000, 'every push after the restart');
    for (let i = 0; i < 200 && (await countDeliveries()) > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(await countDeliveries()).toBe(0);
    const duplicates = receiver.received.length - PUSHES;
    expect(duplicates).toBeGreaterThanOrEqual(0);
    expect(duplicates).toBeLessThanOrEqual(inFlight);
    // A graceful stop ends the process cleanly.
    expect(await second.kill('SIGTERM')).toBe(0);

    /** Notification ids that arrived, each push decrypted once by http_ece. */
    function distinctIds(): Set<number> {
      for (const push of browser.received()) {
        if (!idOf.has(push)) idOf.set(push, JSON.parse(browser.decrypt(push)).notification_id as number);
      }
      return new Set(idOf.values());
    }
  });

  const idOf = new Map<object, number>();
  async function countDeliveries(): Promise<number> {
    const row = await store.db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }
});
