// Push subscriptions (SPEC §8.1): one per access token, with the token that created it kept encrypted.
import type { Dialect } from './migrations.js';
import type { Db, Database, PushSubscriptionsTable } from './schema.js';
import type { Selectable, Kysely } from 'kysely';

export type PushSubscriptionRow = Selectable<PushSubscriptionsTable>;

export type NewPushSubscription = Omit<PushSubscriptionRow, 'id' | 'created_at' | 'updated_at'>;

/**
 * Replaces the token's subscription with a new one (a new id, as Mastodon destroys and creates).
 * On PostgreSQL the token row is locked first, so concurrent POSTs for one token queue behind each
 * other instead of one of them failing on the unique index (SPEC §12: serialized, never 503);
 * SQLite transactions are serialized already.
 */
export async function replaceSubscription(
  db: Kysely<Database>,
  dialect: Dialect,
  row: NewPushSubscription,
  now: number,
): Promise<PushSubscriptionRow> {
  return db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') {
      await trx.selectFrom('tokens').select('id').where('id', '=', row.token_id).forUpdate().execute();
    }
    await deleteSubscriptionsOfToken(trx, row.token_id);
    return trx
      .insertInto('push_subscriptions')
      .values({ ...row, created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

export async function findSubscriptionByToken(db: Db, tokenId: number): Promise<PushSubscriptionRow | undefined> {
  return db.selectFrom('push_subscriptions').selectAll().where('token_id', '=', tokenId).executeTakeFirst();
}

export async function findSubscription(db: Db, id: number): Promise<PushSubscriptionRow | undefined> {
  return db.selectFrom('push_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listSubscriptionsOfAccount(db: Db, accountId: string): Promise<PushSubscriptionRow[]> {
  return db.selectFrom('push_subscriptions').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
}

/** Replaces alerts and policy; undefined when the token has no subscription. */
export async function updateSubscriptionData(
  db: Db,
  tokenId: number,
  data: { alerts: string; policy: string },
  now: number,
): Promise<PushSubscriptionRow | undefined> {
  return db
    .updateTable('push_subscriptions')
    .set({ alerts: data.alerts, policy: data.policy, updated_at: now })
    .where('token_id', '=', tokenId)
    .returningAll()
    .executeTakeFirst();
}

/** Removes the token's subscription and its queued pushes; true when there was one. */
export async function deleteSubscriptionsOfToken(db: Db, tokenId: number): Promise<boolean> {
  const ids = db.selectFrom('push_subscriptions').select('id').where('token_id', '=', tokenId);
  await db.deleteFrom('deliveries').where('subscription_id', 'in', ids).execute();
  const result = await db.deleteFrom('push_subscriptions').where('token_id', '=', tokenId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Removes one subscription and its queued pushes (a push service said it is gone); true when it existed. */
export async function deleteSubscription(db: Db, id: number): Promise<boolean> {
  await db.deleteFrom('deliveries').where('subscription_id', '=', id).execute();
  const result = await db.deleteFrom('push_subscriptions').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
