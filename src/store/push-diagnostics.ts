// What the console reads and the delivery worker writes about pushes (SPEC §14): per subscription, the last
// success, the last failure and the failures since; per origin and hour, outcome counts and a send-time
// histogram; per origin, the last error. Written in batches, read by every process and the CLI alike.
import type { Db } from './schema.js';

export interface SubscriptionFailure {
  readonly id: number;
  readonly at: number;
  readonly status: string;
  readonly class: string;
  /** Failures in this batch after its last success (or all of them, if none). */
  readonly failures: number;
  /** When a success came before them in this batch: the count restarts from `failures`. */
  readonly successAt: number | null;
}

export async function recordSuccesses(db: Db, ids: readonly number[], at: number): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    await db
      .updateTable('push_subscriptions')
      .set({ last_success_at: at, consecutive_failures: 0 })
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
  }
}

export async function recordFailures(db: Db, failures: readonly SubscriptionFailure[]): Promise<void> {
  for (const f of failures) {
    await db
      .updateTable('push_subscriptions')
      .set((eb) => ({
        last_failure_at: f.at,
        last_failure_status: f.status,
        last_failure_class: f.class,
        consecutive_failures: f.successAt !== null ? f.failures : eb('consecutive_failures', '+', f.failures),
        ...(f.successAt !== null ? { last_success_at: f.successAt } : {}),
      }))
      .where('id', '=', f.id)
      .execute();
  }
}

export interface HourlyCount {
  readonly origin: string;
  readonly hour: number;
  readonly metric: string;
  readonly count: number;
}

export async function addHourlyCounts(db: Db, counts: readonly HourlyCount[]): Promise<void> {
  for (let i = 0; i < counts.length; i += 500) {
    await db
      .insertInto('origin_hourly')
      .values(counts.slice(i, i + 500).map((c) => ({ origin: c.origin, hour: c.hour, metric: c.metric, count: c.count })))
      .onConflict((oc) => oc.columns(['origin', 'hour', 'metric']).doUpdateSet((eb) => ({ count: eb('origin_hourly.count', '+', eb.ref('excluded.count')) })))
      .execute();
  }
}

export async function recordOriginErrors(db: Db, errors: readonly { origin: string; at: number; status: string; detail: string }[]): Promise<void> {
  for (const e of errors) {
    await db
      .insertInto('origin_errors')
      .values(e)
      .onConflict((oc) => oc.column('origin').doUpdateSet({ at: e.at, status: e.status, detail: e.detail }))
      .execute();
  }
}

export async function pruneDiagnostics(db: Db, now: number): Promise<void> {
  await db.deleteFrom('origin_hourly').where('hour', '<', hourOf(now) - 48).execute();
  await db.deleteFrom('origin_errors').where('at', '<', now - 7 * 24 * 3_600_000).execute();
  await db.deleteFrom('removed_subscriptions').where('removed_at', '<', now - 7 * 24 * 3_600_000).execute();
}

export const hourOf = (ms: number): number => Math.floor(ms / 3_600_000);

/** Hourly rows of every origin since `fromHour`. */
export async function hourlyCountsSince(db: Db, fromHour: number) {
  return db.selectFrom('origin_hourly').selectAll().where('hour', '>=', fromHour).execute();
}

export async function originErrors(db: Db) {
  return db.selectFrom('origin_errors').selectAll().execute();
}

/** The account's subscriptions with their pending deliveries (due or waiting for a retry). */
export async function subscriptionsWithPending(db: Db, accountId: string) {
  return db
    .selectFrom('push_subscriptions as s')
    .select((eb) => [
      's.id',
      's.token_id',
      's.endpoint',
      's.standard',
      's.alerts',
      's.policy',
      's.created_at',
      's.last_success_at',
      's.last_failure_at',
      's.last_failure_status',
      's.last_failure_class',
      's.consecutive_failures',
      eb
        .selectFrom('deliveries as d')
        .select((c) => c.fn.countAll<number>().as('n'))
        .whereRef('d.subscription_id', '=', 's.id')
        .where('d.given_up_at', 'is', null)
        .as('pending'),
    ])
    .where('s.account_id', '=', accountId)
    .orderBy('s.id')
    .execute();
}

export async function removedSubscriptions(db: Db, accountId: string, since: number) {
  return db
    .selectFrom('removed_subscriptions')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('removed_at', '>=', since)
    .orderBy('removed_at', 'desc')
    .execute();
}

/** Given-up deliveries since `since`, newest first, with their subscription's origin when it still exists. */
export async function givenUpSince(db: Db, since: number, limit: number) {
  return db
    .selectFrom('deliveries as d')
    .leftJoin('push_subscriptions as s', 's.id', 'd.subscription_id')
    .select(['d.id', 'd.subscription_id', 'd.last_status', 'd.given_up_at', 's.endpoint'])
    .where('d.given_up_at', '>=', since)
    .orderBy('d.given_up_at', 'desc')
    .limit(limit)
    .execute();
}

