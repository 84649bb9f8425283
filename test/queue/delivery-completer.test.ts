// The worker's batched completion: deliveries finished together go in one delete, each caller learns
// when its row is gone, and a failed delete fails every caller of that batch (their rows keep their leases).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeliveryCompleter } from '../../src/queue/delivery-completer.js';
import { queueDeliveries } from '../support/fixtures.js';
import { createTestStore, ENGINES, type TestStore } from '../support/test-app.js';

const T0 = Date.parse('2026-11-22T12:00:00.000Z');

describe.each(ENGINES)('delivery completer on %s', (engine) => {
  let ts: TestStore;
  beforeEach(async () => {
    ts = await createTestStore(engine);
  });
  afterEach(() => ts.close());

  const queue = (count: number) => queueDeliveries(ts.store.db, count, T0);
  const remaining = async () => (await ts.store.db.selectFrom('deliveries').select('id').orderBy('id').execute()).map((r) => r.id);

  it('deletes what finished together in one flush, and resolves every caller after it', async () => {
    const ids = await queue(40);
    const flushes: (() => void)[] = [];
    const complete = createDeliveryCompleter(ts.store.db, (flush) => flushes.push(flush));
    const done = ids.slice(0, 30).map((id) => complete(id));
    expect(flushes).toHaveLength(1);
    expect(await remaining()).toEqual(ids);
    flushes[0]();
    await Promise.all(done);
    expect(await remaining()).toEqual(ids.slice(30));

    // The next flush starts a new batch.
    const one = complete(ids[35]);
    expect(flushes).toHaveLength(2);
    flushes[1]();
    await one;
    expect(await remaining()).toEqual(ids.slice(30).filter((id) => id !== ids[35]));
  });

  it('with the default schedule, finishes on its own', async () => {
    const ids = await queue(3);
    const complete = createDeliveryCompleter(ts.store.db);
    await Promise.all(ids.map((id) => complete(id)));
    expect(await remaining()).toEqual([]);
  });

  it('fails every caller of a batch whose delete fails', async () => {
    const ids = await queue(2);
    const complete = createDeliveryCompleter(ts.store.db);
    await ts.close();
    const results = await Promise.allSettled(ids.map((id) => complete(id)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    ts = await createTestStore(engine);
  });
});
