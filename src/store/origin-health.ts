// The breaker's shared state (SPEC §8.7, §16): refusals by origin and subscription, and pauses by origin.
// One refusal is recorded and judged in one transaction holding the origin's pause row, so concurrent
// workers in any number of processes decide one after the other.
import type { Store } from './open-store.js';
import type { Db } from './schema.js';

export async function recordRefusal<V>(
  store: Store,
  refusal: { origin: string; subscriptionId: number; now: number; windowMs: number },
  judge: (state: { refusals: number; pausedUntil: number }) => { verdict: V; pausedUntil: number },
): Promise<V> {
  const { origin, subscriptionId, now, windowMs } = refusal;
  return store.db.transaction().execute(async (trx) => {
    await trx.insertInto('origin_pauses').values({ origin, paused_until: 0 }).onConflict((oc) => oc.column('origin').doNothing()).execute();
    // The row lock that serializes this origin's decisions (SQLite serializes every write transaction).
    let locked = trx.selectFrom('origin_pauses').select('paused_until').where('origin', '=', origin);
    if (store.dialect === 'postgres') locked = locked.forUpdate();
    const { paused_until } = await locked.executeTakeFirstOrThrow();
    await trx.deleteFrom('origin_refusals').where('origin', '=', origin).where('refused_at', '<', now - windowMs).execute();
    await trx
      .insertInto('origin_refusals')
      .values({ origin, subscription_id: subscriptionId, refused_at: now })
      .onConflict((oc) => oc.columns(['origin', 'subscription_id']).doUpdateSet({ refused_at: now }))
      .execute();
    const { count } = await trx
      .selectFrom('origin_refusals')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('origin', '=', origin)
      .executeTakeFirstOrThrow();
    const { verdict, pausedUntil } = judge({ refusals: Number(count), pausedUntil: Number(paused_until) });
    if (pausedUntil !== Number(paused_until)) {
      await trx.updateTable('origin_pauses').set({ paused_until: pausedUntil }).where('origin', '=', origin).execute();
    }
    return verdict;
  });
}

/** Origins paused now, with the end of their pause. */
export async function activePauses(db: Db, now: number): Promise<Map<string, number>> {
  const rows = await db.selectFrom('origin_pauses').selectAll().where('paused_until', '>', now).execute();
  return new Map(rows.map((r) => [r.origin, Number(r.paused_until)]));
}
