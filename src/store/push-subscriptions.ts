// Push subscriptions (SPEC §8.1): one per access token, with the token that created it kept encrypted.
import type { Dialect } from './migrations.js';
import type { Db, Database, PushSubscriptionsTable } from './schema.js';
import type { Insertable, Selectable, Kysely } from 'kysely';

export type PushSubscriptionRow = Selectable<PushSubscriptionsTable>;

export type NewPushSubscription = Omit<Insertable<PushSubscriptionsTable>, 'id' | 'created_at' | 'updated_at'>;

/**
 * Why a subscription went (SPEC §14): the push service said it is gone (404/410) or refused it (401/403, not
 * a burst), its token was revoked or is no longer active, the user unsubscribed through the Unsubscribe-URL,
 * the app replaced it with a new POST, or the app deleted it.
 */
export type RemovalReason = 'gone' | 'refused' | 'token_revoked' | 'token_inactive' | 'unsubscribed' | 'replaced' | 'deleted_by_app';

export interface Removal {
  readonly reason: RemovalReason;
  readonly detail?: string;
  readonly now: number;
}

/** Removed subscriptions are remembered this long. */
export const KEEP_REMOVED_MS = 7 * 24 * 60 * 60_000;

/**
 * Removes subscriptions with their queued pushes, and remembers each with why for the console. Run it in a
 * transaction. Returns how many went.
 */
export async function removeSubscriptions(
  db: Db,
  which: { readonly id: number } | { readonly tokenIds: readonly number[] },
  removal: Removal,
): Promise<number> {
  let query = db.selectFrom('push_subscriptions').select(['id', 'account_id', 'token_id', 'endpoint', 'standard', 'created_at']);
  query = 'id' in which ? query.where('id', '=', which.id) : query.where('token_id', 'in', which.tokenIds);
  const rows = 'tokenIds' in which && which.tokenIds.length === 0 ? [] : await query.execute();
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r.id);
  await db
    .insertInto('removed_subscriptions')
    .values(
      rows.map((r) => ({
        id: r.id,
        account_id: r.account_id,
        token_id: r.token_id,
        // The origin only: an endpoint's path is a capability (SPEC §14).
        origin: new URL(r.endpoint).origin,
        standard: r.standard,
        created_at: r.created_at,
        removed_at: removal.now,
        reason: removal.reason,
        detail: removal.detail?.slice(0, 500) ?? null,
      })),
    )
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  await db.deleteFrom('deliveries').where('subscription_id', 'in', ids).execute();
  await db.deleteFrom('push_subscriptions').where('id', 'in', ids).execute();
  return rows.length;
}

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
    await removeSubscriptions(trx, { tokenIds: [row.token_id] }, { reason: 'replaced', now });
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

/** Forgets removals older than KEEP_REMOVED_MS. */
export async function pruneRemovedSubscriptions(db: Db, now: number): Promise<void> {
  await db.deleteFrom('removed_subscriptions').where('removed_at', '<', now - KEEP_REMOVED_MS).execute();
}
