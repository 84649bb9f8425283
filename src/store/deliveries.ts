// The push outbox (DESIGN "Data"): one row per (subscription, notification), written with the notification.
import { shouldPush, isPushPolicy, type Alerts, type PushPolicy } from '../domain/push-selection.js';
import type { Relationship } from '../domain/notification-policy.js';
import type { NotificationType } from '../domain/notification-types.js';
import type { AccountRow, StatusRow } from './accounts.js';
import type { NotificationRow } from './notifications.js';
import type { PushSubscriptionRow } from './push-subscriptions.js';
import { inList, listValue, rowsValues, selectRows, type RowColumn } from './bound-lists.js';
import { executeCached, literalLimit } from './open-store.js';
import type { Selectable } from 'kysely';
import type { Db, DeliveriesTable } from './schema.js';

/** A subscription as push selection sees it, its alerts parsed on first use (then kept for the batch). */
export interface PushTarget {
  readonly id: number;
  readonly alerts: Alerts;
  readonly policy: PushPolicy;
}

function toPushTarget(row: { id: number; alerts: string; policy: string }): PushTarget {
  let alerts: Alerts | undefined;
  return {
    id: row.id,
    policy: isPushPolicy(row.policy) ? row.policy : 'none',
    get alerts() {
      return (alerts ??= JSON.parse(row.alerts) as Alerts);
    },
  };
}

/** The push subscriptions of several recipients at once: recipient → its targets (ingest reads them per batch). */
export async function findPushTargets(db: Db, accountIds: readonly string[]): Promise<Map<string, PushTarget[]>> {
  const targets = new Map<string, PushTarget[]>();
  const unique = [...new Set(accountIds)];
  if (unique.length === 0) return targets;
  const rows = await executeCached(db, 'findPushTargets', [listValue(db, unique)], (param) =>
    db
      .selectFrom('push_subscriptions')
      .select(['id', 'account_id', 'alerts', 'policy'])
      .where(inList(db, 'account_id', param(0), 'text'))
      .orderBy('id'),
  );
  for (const s of rows) {
    let list = targets.get(s.account_id);
    if (!list) targets.set(s.account_id, (list = []));
    list.push(toPushTarget(s));
  }
  return targets;
}

export type NewDelivery = Omit<DeliveryRow, 'id'>;

/** The deliveries to queue for a notification: one per target that wants it (SPEC §8.4). */
export function deliveriesFor(
  targets: readonly PushTarget[],
  notification: { id: number; account_id: string; type: NotificationType; filtered: boolean },
  relationship: Relationship,
  now: number,
): NewDelivery[] {
  if (notification.filtered) return [];
  return targets
    .filter((s) => shouldPush(s, notification, relationship))
    .map((s) => ({
      subscription_id: s.id,
      notification_id: notification.id,
      account_id: notification.account_id,
      next_attempt_at: now,
      attempts: 0,
      lease_until: null,
      last_status: null,
      given_up_at: null,
      created_at: now,
    }));
}

/** Writes queued deliveries: one statement for any number, the rows bound as one value (bound-lists.ts). */
export async function insertDeliveries(db: Db, rows: readonly NewDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  const values = rowsValues(db, DELIVERY_ROW, rows.map((row) => DELIVERY_ROW.map(({ name }) => row[name])));
  await executeCached(db, 'insertDeliveries', values, (param) =>
    db
      .insertInto('deliveries')
      .columns(DELIVERY_ROW.map(({ name }) => name))
      .expression(selectRows(db, DELIVERY_ROW, param)),
  );
}

const DELIVERY_ROW = [
  { name: 'subscription_id', type: 'bigint' },
  { name: 'notification_id', type: 'bigint' },
  { name: 'account_id', type: 'text' },
  { name: 'next_attempt_at', type: 'bigint' },
  { name: 'attempts', type: 'integer' },
  { name: 'lease_until', type: 'bigint' },
  { name: 'last_status', type: 'text' },
  { name: 'given_up_at', type: 'bigint' },
  { name: 'created_at', type: 'bigint' },
] as const satisfies readonly (RowColumn & { name: keyof NewDelivery })[];

/** Queues a delivery for every subscription of the recipient that wants this notification; returns how many. */
export async function enqueueDeliveries(
  db: Db,
  notification: { id: number; account_id: string; type: NotificationType; filtered: boolean },
  relationship: Relationship,
  now: number,
): Promise<number> {
  if (notification.filtered) return 0;
  const targets = (await findPushTargets(db, [notification.account_id])).get(notification.account_id) ?? [];
  const due = deliveriesFor(targets, notification, relationship, now);
  await insertDeliveries(db, due);
  return due.length;
}

export type DeliveryRow = Selectable<DeliveriesTable>;

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
  // Compiled once per engine and claim size (executeCached): the worker claims many times a second under load.
  const shape = `claimDueDeliveries ${dialect} ${options.limit}`;
  const rows = await executeCached<DeliveryRow>(db, shape, [options.now, leaseUntil], (param) => {
    let due = db
      .selectFrom('deliveries')
      .select('id')
      .where('given_up_at', 'is', null)
      .where('next_attempt_at', '<=', param(0))
      .orderBy('next_attempt_at')
      .limit(literalLimit(options.limit));
    if (dialect === 'postgres') due = due.forUpdate().skipLocked();
    return db
      .updateTable('deliveries')
      .set((eb) => ({ lease_until: param(1), next_attempt_at: param(1), attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', due)
      .returningAll();
  });
  return rows.sort((a, b) => a.id - b.id);
}

/**
 * Extends the leases of claimed rows still being worked on (SPEC §16), matching the lease they were claimed
 * or last renewed with. Returns the ids renewed; one that no longer matches was taken over or finished.
 */
export async function renewLeases(db: Db, ids: readonly number[], current: number, next: number): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('deliveries')
    .set({ lease_until: next, next_attempt_at: next })
    .where('id', 'in', ids)
    .where('lease_until', '=', current)
    .returning('id')
    .execute();
  return rows.map((row) => Number(row.id));
}

/** Done (delivered, or nothing left to send): the row goes. */
export async function completeDelivery(db: Db, id: number): Promise<void> {
  await executeCached(db, 'completeDelivery', [id], (param) => db.deleteFrom('deliveries').where('id', '=', param(0)));
}

/** Several done at once: one statement, one commit (the worker gathers the deliveries finished in one turn). */
export async function completeDeliveries(db: Db, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await executeCached(db, 'completeDeliveries', [listValue(db, ids)], (param) =>
    db.deleteFrom('deliveries').where(inList(db, 'id', param(0), 'bigint')),
  );
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

/** What sending a batch of deliveries reads, loaded for the whole batch at once. */
export interface DeliveryInputs {
  readonly subscriptions: ReadonlyMap<number, PushSubscriptionRow>;
  readonly notifications: ReadonlyMap<number, NotificationRow>;
  /** Recipients and actors of the notifications. */
  readonly accounts: ReadonlyMap<string, AccountRow>;
  readonly statuses: ReadonlyMap<string, StatusRow>;
}

/**
 * Loads, as the store has them now, the subscriptions and notifications that `deliveries` name, and the
 * accounts and statuses their payloads need: four queries for a claimed batch instead of four per delivery.
 * The accounts and statuses are found through the notifications' ids, so the four go out together: on
 * PostgreSQL a claim is two round trips (the claim, then these four side by side) rather than three.
 */
export async function loadDeliveryInputs(db: Db, deliveries: readonly Pick<DeliveryRow, 'subscription_id' | 'notification_id'>[]): Promise<DeliveryInputs> {
  if (deliveries.length === 0) return { subscriptions: new Map(), notifications: new Map(), accounts: new Map(), statuses: new Map() };
  const subscriptionIds = [...new Set(deliveries.map((d) => d.subscription_id))];
  const notificationIds = [...new Set(deliveries.map((d) => d.notification_id))];
  const byNotifications = [listValue(db, notificationIds)];
  const [subscriptions, notifications, accounts, statuses] = await Promise.all([
    executeCached(db, 'deliverySubscriptions', [listValue(db, subscriptionIds)], (param) =>
      db.selectFrom('push_subscriptions').selectAll().where(inList(db, 'id', param(0), 'bigint')),
    ),
    executeCached(db, 'deliveryNotifications', byNotifications, (param) =>
      db.selectFrom('notifications').selectAll().where(inList(db, 'id', param(0), 'bigint')),
    ),
    // Recipients and actors. One IN over a UNION: an OR of two INs can make PostgreSQL scan all accounts.
    executeCached(db, 'deliveryAccounts', byNotifications, (param) => {
      const named = db.selectFrom('notifications').where(inList(db, 'id', param(0), 'bigint'));
      return db
        .selectFrom('accounts')
        .selectAll()
        .where('id', 'in', named.select('account_id as id').union(named.select('from_account_id as id')));
    }),
    executeCached(db, 'deliveryStatuses', byNotifications, (param) =>
      db
        .selectFrom('statuses')
        .selectAll()
        .where('id', 'in', db.selectFrom('notifications').select('status_id').where(inList(db, 'id', param(0), 'bigint'))),
    ),
  ]);
  return {
    subscriptions: new Map(subscriptions.map((s) => [s.id, s])),
    notifications: new Map(notifications.map((n) => [n.id, n])),
    accounts: new Map(accounts.map((a) => [a.id, a])),
    statuses: new Map(statuses.map((st) => [st.id, st])),
  };
}
