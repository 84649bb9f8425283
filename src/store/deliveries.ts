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

export interface DeliveryRow {
  id: number;
  subscription_id: number;
  notification_id: number;
  account_id: string;
  next_attempt_at: number;
  /** Attempts started, the current one included: a claim counts one, so a job that crashes its worker still ends. */
  attempts: number;
  /** While claimed: when the lease ends. It doubles as the claim's identity for the updates below. */
  lease_until: number | null;
  last_status: string | null;
  given_up_at: number | null;
  created_at: number;
}

/**
 * Claims up to `limit` due deliveries for `leaseMs` (DESIGN "Data"). A claim moves next_attempt_at to
 * the lease's end, so a claimed row leaves the due range of the (given_up_at, next_attempt_at) index and
 * comes back by itself when its worker dies without finishing: expired leases are claimed again.
 * PostgreSQL: FOR UPDATE SKIP LOCKED lets many workers claim side by side without waiting on each
 * other; SQLite: one UPDATE … RETURNING is atomic (writers are serialized).
 */
export async function claimDueDeliveries(
  db: Db,
  dialect: 'sqlite' | 'postgres',
  options: { now: number; leaseMs: number; limit: number },
): Promise<DeliveryRow[]> {
  if (options.limit <= 0) return [];
  const leaseUntil = options.now + options.leaseMs;
  let due = db
    .selectFrom('deliveries')
    .select('id')
    .where('given_up_at', 'is', null)
    .where('next_attempt_at', '<=', options.now)
    .orderBy('next_attempt_at')
    .limit(options.limit);
  if (dialect === 'postgres') due = due.forUpdate().skipLocked();
  const rows = await db
    .updateTable('deliveries')
    .set((eb) => ({ lease_until: leaseUntil, next_attempt_at: leaseUntil, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', due)
    .returningAll()
    .execute();
  return rows.sort((a, b) => a.id - b.id);
}

/** Done (delivered, or nothing left to send): the row goes. */
export async function completeDelivery(db: Db, id: number): Promise<void> {
  await db.deleteFrom('deliveries').where('id', '=', id).execute();
}

/** Schedules another attempt; a no-op when the lease was lost to another worker meanwhile. */
export async function rescheduleDelivery(
  db: Db,
  claim: Pick<DeliveryRow, 'id' | 'lease_until'>,
  next: { at: number; lastStatus: string; attempts?: number },
): Promise<void> {
  await db
    .updateTable('deliveries')
    .set({
      next_attempt_at: next.at,
      lease_until: null,
      last_status: next.lastStatus,
      ...(next.attempts === undefined ? {} : { attempts: next.attempts }),
    })
    .where('id', '=', claim.id)
    .where('lease_until', '=', claim.lease_until)
    .execute();
}

/** Stops retrying; the row stays, with why, for inspection until pruned. */
export async function giveUpDelivery(
  db: Db,
  claim: Pick<DeliveryRow, 'id' | 'lease_until'>,
  outcome: { now: number; lastStatus: string },
): Promise<void> {
  await db
    .updateTable('deliveries')
    .set({ given_up_at: outcome.now, lease_until: null, last_status: outcome.lastStatus })
    .where('id', '=', claim.id)
    .where('lease_until', '=', claim.lease_until)
    .execute();
}

/** Removes given-up rows recorded before `before`; returns how many went. */
export async function pruneGivenUpDeliveries(db: Db, before: number): Promise<number> {
  const result = await db.deleteFrom('deliveries').where('given_up_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface DeliveryQueueStats {
  /** Waiting to be claimed now. */
  readonly due: number;
  /** Waiting for a retry time. */
  readonly scheduled: number;
  /** Claimed by a worker, lease running. */
  readonly leased: number;
  readonly givenUp: number;
  /** created_at of the oldest row still to deliver, or null when there is none. */
  readonly oldestCreatedAt: number | null;
}

export async function deliveryQueueStats(db: Db, now: number): Promise<DeliveryQueueStats> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => {
      const count = (condition: Parameters<typeof eb.case>[0] & object) =>
        eb.fn.sum<number>(eb.case().when(condition).then(1).else(0).end());
      const live = eb('given_up_at', 'is', null);
      const leaseRunning = eb('lease_until', '>', now);
      return [
        count(eb.and([live, eb('next_attempt_at', '<=', now)])).as('due'),
        // A running lease also sets next_attempt_at ahead; NULL-safe: lease_until is null when not claimed.
        count(
          eb.and([live, eb('next_attempt_at', '>', now), eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)])]),
        ).as('scheduled'),
        count(eb.and([live, leaseRunning])).as('leased'),
        count(eb('given_up_at', 'is not', null)).as('given_up'),
        eb.fn.min<number | null>(eb.case().when(live).then(eb.ref('created_at')).end()).as('oldest'),
      ];
    })
    .executeTakeFirstOrThrow();
  return {
    due: Number(row.due ?? 0),
    scheduled: Number(row.scheduled ?? 0),
    leased: Number(row.leased ?? 0),
    givenUp: Number(row.given_up ?? 0),
    oldestCreatedAt: row.oldest === null || row.oldest === undefined ? null : Number(row.oldest),
  };
}
