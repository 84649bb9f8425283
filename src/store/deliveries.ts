// The push outbox (DESIGN "Data"): one row per (subscription, notification), written with the notification.
import { shouldPush, isPushPolicy, type Alerts } from '../domain/push-selection.js';
import type { Relationship } from '../domain/notification-policy.js';
import type { NotificationType } from '../domain/notification-types.js';
import type { Db } from './schema.js';

/** Queues a delivery for every subscription of the recipient that wants this notification; returns how many. */
export async function enqueueDeliveries(
  db: Db,
  notification: { id: number; account_id: string; type: NotificationType; filtered: boolean },
  relationship: Relationship,
  now: number,
): Promise<number> {
  if (notification.filtered) return 0;
  const subscriptions = await db
    .selectFrom('push_subscriptions')
    .select(['id', 'alerts', 'policy'])
    .where('account_id', '=', notification.account_id)
    .execute();
  const due = subscriptions.filter((s) => {
    const policy = isPushPolicy(s.policy) ? s.policy : 'none';
    return shouldPush({ alerts: JSON.parse(s.alerts) as Alerts, policy }, notification, relationship);
  });
  if (due.length === 0) return 0;
  await db
    .insertInto('deliveries')
    .values(
      due.map((s) => ({
        subscription_id: s.id,
        notification_id: notification.id,
        account_id: notification.account_id,
        next_attempt_at: now,
        attempts: 0,
        lease_until: null,
        last_status: null,
        given_up_at: null,
        created_at: now,
      })),
    )
    .execute();
  return due.length;
}
