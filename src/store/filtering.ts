// Per-recipient filtering state: the policy, accepted actors and notification requests (SPEC §7).
import { DEFAULT_POLICY, isPolicyValue, POLICY_FIELDS, type NotificationPolicy } from '../domain/notification-policy.js';
import type { Db } from './schema.js';

export async function findPolicy(db: Db, accountId: string): Promise<NotificationPolicy> {
  const row = await db.selectFrom('notification_policies').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  if (!row) return DEFAULT_POLICY;
  const policy = { ...DEFAULT_POLICY } as Record<string, string>;
  for (const field of POLICY_FIELDS) if (isPolicyValue(row[field])) policy[field] = row[field];
  return policy as unknown as NotificationPolicy;
}

export async function savePolicy(db: Db, accountId: string, policy: NotificationPolicy, now: number): Promise<void> {
  const values = { ...policy, updated_at: now };
  await db
    .insertInto('notification_policies')
    .values({ account_id: accountId, ...values })
    .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
    .execute();
}

export async function isActorAccepted(db: Db, accountId: string, fromAccountId: string): Promise<boolean> {
  const row = await db
    .selectFrom('notification_permissions')
    .select('from_account_id')
    .where('account_id', '=', accountId)
    .where('from_account_id', '=', fromAccountId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Opens or refreshes the request that gathers an actor's filtered mentions and quotes. */
export async function touchRequest(
  db: Db,
  accountId: string,
  fromAccountId: string,
  statusId: string | null,
  now: number,
): Promise<void> {
  await db
    .insertInto('notification_requests')
    .values({
      account_id: accountId,
      from_account_id: fromAccountId,
      last_status_id: statusId,
      notifications_count: 1,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['account_id', 'from_account_id']).doUpdateSet((eb) => ({
        last_status_id: statusId,
        updated_at: now,
        notifications_count: eb('notification_requests.notifications_count', '+', 1),
      })),
    )
    .execute();
}
