// The outbox contract (DESIGN "Data"), run once per engine: claim with a lease, reclaim after the lease
// expires, never hand one row to two claimers at once, reschedule and give up only under one's own lease.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimDueDeliveries,
  completeDelivery,
  deliveryQueueStats,
  giveUpDelivery,
  pruneGivenUpDeliveries,
  rescheduleDelivery,
} from '../../src/store/deliveries.js';
import { queueDeliveries } from '../support/fixtures.js';
import { createTestStore, ENGINES, type TestStore } from '../support/test-app.js';

const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const LEASE = 60_000;

describe.each(ENGINES)('delivery outbox on %s', (engine) => {
  let ts: TestStore;
  beforeEach(async () => {
    ts = await createTestStore(engine);
  });
  afterEach(() => ts.close());

  const db = () => ts.store.db;
  const dialect = () => ts.store.dialect;
  const queue = (count: number, at = T0) => queueDeliveries(db(), count, at);
  const claim = (now: number, limit = 100) => claimDueDeliveries(db(), dialect(), { now, leaseMs: LEASE, limit });

  it('claims due rows with a lease and counts the attempt', async () => {
    await queue(3);
    await queue(1, T0 + 10_000); // not due yet
    const rows = await claim(T0, 10);
    expect(rows.map((r) => r.notification_id)).toEqual([1, 2, 3]);
    for (const row of rows) {
      expect(row.attempts).toBe(1);
      expect(row.lease_until).toBe(T0 + LEASE);
    }
    expect(await claim(T0 + 1000)).toEqual([]);
  });

  it('respects the limit and claims the oldest due first', async () => {
    await queue(2, T0 - 5000);
    await queue(2, T0 - 10_000);
    const rows = await claim(T0, 2);
    expect(rows.map((r) => r.next_attempt_at)).toEqual([T0 + LEASE, T0 + LEASE]);
    expect(rows.every((r) => r.created_at === T0 - 10_000)).toBe(true);
  });

  it('claims a row again once its lease has expired (a crashed worker)', async () => {
    await queue(1);
    const [first] = await claim(T0);
    expect(await claim(T0 + LEASE - 1)).toEqual([]);
    const [again] = await claim(T0 + LEASE);
    expect(again.id).toBe(first.id);
    expect(again.attempts).toBe(2);
    // The first worker's late answer no longer applies: its lease is gone.
    await rescheduleDelivery(db(), first, { at: T0 + 999_999, lastStatus: '503' });
    await giveUpDelivery(db(), first, { now: T0, lastStatus: 'x' });
    const row = await db().selectFrom('deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ given_up_at: null, last_status: null, lease_until: T0 + 2 * LEASE });
  });

  it('never hands a row to two concurrent claimers', async () => {
    await queue(60);
    const batches = await Promise.all([claim(T0, 20), claim(T0, 20), claim(T0, 20), claim(T0, 20)]);
    const ids = batches.flat().map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(60);
  });

  it('reschedules, gives up, completes and prunes', async () => {
    await queue(3);
    const [a, b, c] = await claim(T0);
    await rescheduleDelivery(db(), a, { at: T0 + 5000, lastStatus: '503: busy' });
    await giveUpDelivery(db(), b, { now: T0, lastStatus: '503: gave up after 5 retries' });
    await completeDelivery(db(), c.id);
    expect(await deliveryQueueStats(db(), T0 + 1)).toEqual({ due: 0, scheduled: 1, leased: 0, givenUp: 1, oldestCreatedAt: T0 });
    const [retried] = await claim(T0 + 5000);
    expect(retried).toMatchObject({ id: a.id, attempts: 2, last_status: '503: busy' });
    expect(await deliveryQueueStats(db(), T0 + 5001)).toMatchObject({ leased: 1, scheduled: 0 });
    // Given-up rows stay for inspection, are never claimed, and go when pruned.
    expect(await claim(T0 + 10 * LEASE)).toHaveLength(1);
    expect(await pruneGivenUpDeliveries(db(), T0)).toBe(0);
    expect(await pruneGivenUpDeliveries(db(), T0 + 1)).toBe(1);
  });

  it('counts depth and the oldest age for metrics', async () => {
    expect(await deliveryQueueStats(db(), T0)).toEqual({ due: 0, scheduled: 0, leased: 0, givenUp: 0, oldestCreatedAt: null });
    await queue(2, T0 - 3000);
    await queue(1, T0 + 3000);
    expect(await deliveryQueueStats(db(), T0)).toEqual({ due: 2, scheduled: 1, leased: 0, givenUp: 0, oldestCreatedAt: T0 - 3000 });
  });
});
