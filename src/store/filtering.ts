// Per-recipient filtering state: the policy, accepted actors and notification requests (SPEC §7).
import { DEFAULT_POLICY, isPolicyValue, POLICY_FIELDS, type NotificationPolicy } from '../domain/notification-policy.js';
import { pageRange, type PageQuery } from '../domain/pagination.js';
import { inList, listValue, rowsValues, selectRows, type RowColumn } from './bound-lists.js';
import { executeCached, literalLimit } from './open-store.js';
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

/**
 * touchRequest for each of a batch's filtered mentions and quotes, in their order: one upsert per
 * (recipient, actor), inserted in the order of first touch (request ids come out in the order one touch at
 * a time gives them), counting every touch and keeping the last one's status.
 */
export async function touchRequests(
  db: Db,
  touches: readonly { accountId: string; fromAccountId: string; statusId: string | null }[],
  now: number,
): Promise<void> {
  if (touches.length === 0) return;
  const byActor = new Map<string, { account_id: string; from_account_id: string; last_status_id: string | null; notifications_count: number }>();
  for (const touch of touches) {
    const key = JSON.stringify([touch.accountId, touch.fromAccountId]);
    const seen = byActor.get(key);
    if (seen) {
      seen.last_status_id = touch.statusId;
      seen.notifications_count++;
    } else {
      byActor.set(key, { account_id: touch.accountId, from_account_id: touch.fromAccountId, last_status_id: touch.statusId, notifications_count: 1 });
    }
  }
  const rows = [...byActor.values()].map((r) => [r.account_id, r.from_account_id, r.last_status_id, r.notifications_count, now, now]);
  // One statement for any number (bound-lists.ts).
  await executeCached(db, 'touchRequests', rowsValues(db, REQUEST_ROW, rows), (param) =>
    db
      .insertInto('notification_requests')
      .columns(REQUEST_ROW.map(({ name }) => name))
      .expression(selectRows(db, REQUEST_ROW, param))
      .onConflict((oc) =>
        oc.columns(['account_id', 'from_account_id']).doUpdateSet((eb) => ({
          last_status_id: eb.ref('excluded.last_status_id'),
          updated_at: eb.ref('excluded.updated_at'),
          notifications_count: eb('notification_requests.notifications_count', '+', eb.ref('excluded.notifications_count')),
        })),
      ),
  );
}

const REQUEST_ROW = [
  { name: 'account_id', type: 'text' },
  { name: 'from_account_id', type: 'text' },
  { name: 'last_status_id', type: 'text' },
  { name: 'notifications_count', type: 'integer' },
  { name: 'created_at', type: 'bigint' },
  { name: 'updated_at', type: 'bigint' },
] as const satisfies readonly RowColumn[];

/** A notification request as clients see it: counts and last status come from the filtered notifications. */
export interface RequestRow {
  id: number;
  from_account_id: string;
  created_at: number;
  updated_at: number;
  account_json: string;
  /** The actor's filtered notifications still pending, so dismissals keep it right. */
  pending_count: number;
  last_status_id: string | null;
}

export interface FilterSummary {
  readonly pendingRequests: number;
  readonly pendingNotifications: number;
}

/** SPEC §7: only filtered mentions and quotes gather into a request and count in it. */
const REQUEST_TYPES = ['mention', 'quote'];

/** Mastodon caps the pending requests count here (NotificationPolicy::MAX_MEANINGFUL_COUNT). */
const MAX_MEANINGFUL_COUNT = 100;

/**
 * The recipient's requests that still gather something: the actor is not suspended and has filtered
 * notifications left. Per-request lookups use the (account_id, from_account_id, id) index.
 */
function visibleRequests(db: Db, accountId: string) {
  return db
    .selectFrom('notification_requests as r')
    .innerJoin('accounts', 'accounts.id', 'r.from_account_id')
    .where('r.account_id', '=', accountId)
    .where('accounts.suspended', '=', 0)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('notifications as n')
          .select('n.id')
          .whereRef('n.account_id', '=', 'r.account_id')
          .whereRef('n.from_account_id', '=', 'r.from_account_id')
          .where('n.filtered', '=', 1)
          .where('n.type', 'in', REQUEST_TYPES),
      ),
    )
    .select((eb) => [
      'r.id',
      'r.from_account_id',
      'r.created_at',
      'r.updated_at',
      'accounts.json as account_json',
      eb
        .selectFrom('notifications as n')
        .select((c) => c.fn.countAll<number>().as('count'))
        .whereRef('n.account_id', '=', 'r.account_id')
        .whereRef('n.from_account_id', '=', 'r.from_account_id')
        .where('n.filtered', '=', 1)
        .where('n.type', 'in', REQUEST_TYPES)
        .as('pending_count'),
      eb
        .selectFrom('notifications as n')
        .select('n.status_id')
        .whereRef('n.account_id', '=', 'r.account_id')
        .whereRef('n.from_account_id', '=', 'r.from_account_id')
        .where('n.filtered', '=', 1)
        .where('n.type', 'in', REQUEST_TYPES)
        .where('n.status_id', 'is not', null)
        .orderBy('n.id', 'desc')
        .limit(literalLimit(1))
        .as('last_status_id'),
    ]);
}

const toRequestRow = (r: Record<string, unknown>): RequestRow => ({
  id: Number(r.id),
  from_account_id: String(r.from_account_id),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
  account_json: String(r.account_json),
  pending_count: Number(r.pending_count ?? 0),
  last_status_id: (r.last_status_id as string | null) ?? null,
});

/** One page of requests, newest first by id (SPEC §1.6 paging, §12). */
export async function listRequests(db: Db, accountId: string, page: PageQuery): Promise<RequestRow[]> {
  if (page.limit <= 0) return [];
  const { lower, upper, ascending } = pageRange(page);
  let query = visibleRequests(db, accountId);
  if (lower !== undefined) query = query.where('r.id', '>', lower);
  if (upper !== undefined) query = query.where('r.id', '<', upper);
  const rows = (await query.orderBy('r.id', ascending ? 'asc' : 'desc').limit(literalLimit(page.limit)).execute()).map(toRequestRow);
  return ascending ? rows.reverse() : rows;
}

export async function findVisibleRequest(db: Db, accountId: string, id: number): Promise<RequestRow | undefined> {
  const row = await visibleRequests(db, accountId).where('r.id', '=', id).executeTakeFirst();
  return row ? toRequestRow(row) : undefined;
}

/** The actors behind some of the recipient's requests (suspended ones too: they may still be dismissed). */
export async function findRequestActors(db: Db, accountId: string, ids: readonly number[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('notification_requests')
    .select('from_account_id')
    .where('account_id', '=', accountId)
    .where('id', 'in', ids)
    .execute();
  return rows.map((r) => r.from_account_id);
}

/** Pending requests (capped) and the filtered notifications they hold (Mastodon's policy summary). */
export async function summarizeFiltered(db: Db, accountId: string): Promise<FilterSummary> {
  const capped = visibleRequests(db, accountId).limit(literalLimit(MAX_MEANINGFUL_COUNT));
  const row = await db
    .selectFrom(capped.as('p'))
    .select((eb) => [eb.fn.countAll<number>().as('requests'), eb.fn.sum<number | string | null>('p.pending_count').as('notifications')])
    .executeTakeFirstOrThrow();
  return { pendingRequests: Number(row.requests), pendingNotifications: Number(row.notifications ?? 0) };
}

/**
 * Accepts actors: they are remembered (their next notifications pass the policy), their filtered
 * notifications join the normal list, and their requests go. Unfiltered notifications keep no group key,
 * as in Mastodon: a key is only ever given at ingest.
 */
export async function acceptActors(db: Db, accountId: string, fromAccountIds: readonly string[], now: number): Promise<void> {
  if (fromAccountIds.length === 0) return;
  await db
    .insertInto('notification_permissions')
    .values(fromAccountIds.map((from) => ({ account_id: accountId, from_account_id: from, created_at: now })))
    .onConflict((oc) => oc.columns(['account_id', 'from_account_id']).doNothing())
    .execute();
  await db
    .updateTable('notifications')
    .set({ filtered: 0 })
    .where('account_id', '=', accountId)
    .where('from_account_id', 'in', fromAccountIds)
    .where('filtered', '=', 1)
    .execute();
  await db.deleteFrom('notification_requests').where('account_id', '=', accountId).where('from_account_id', 'in', fromAccountIds).execute();
}

/** Dismisses actors' requests with their filtered notifications (and any push queued for them). */
export async function dismissActors(db: Db, accountId: string, fromAccountIds: readonly string[]): Promise<void> {
  if (fromAccountIds.length === 0) return;
  const doomed = db
    .selectFrom('notifications')
    .select('id')
    .where('account_id', '=', accountId)
    .where('from_account_id', 'in', fromAccountIds)
    .where('filtered', '=', 1);
  await db.deleteFrom('deliveries').where('account_id', '=', accountId).where('notification_id', 'in', doomed).execute();
  await db
    .deleteFrom('notifications')
    .where('account_id', '=', accountId)
    .where('from_account_id', 'in', fromAccountIds)
    .where('filtered', '=', 1)
    .execute();
  await db.deleteFrom('notification_requests').where('account_id', '=', accountId).where('from_account_id', 'in', fromAccountIds).execute();
}

/** The policies of several recipients at once (ingest reads them per batch); absent ones get the default. */
export async function findPolicies(db: Db, accountIds: readonly string[]): Promise<Map<string, NotificationPolicy>> {
  const unique = [...new Set(accountIds)];
  const policies = new Map<string, NotificationPolicy>(unique.map((id) => [id, DEFAULT_POLICY]));
  if (unique.length === 0) return policies;
  const rows = await executeCached(db, 'findPolicies', [listValue(db, unique)], (param) =>
    db.selectFrom('notification_policies').selectAll().where(inList(db, 'account_id', param(0), 'text')),
  );
  for (const row of rows) {
    const policy = { ...DEFAULT_POLICY } as Record<string, string>;
    for (const field of POLICY_FIELDS) if (isPolicyValue(row[field])) policy[field] = row[field];
    policies.set(row.account_id, policy as unknown as NotificationPolicy);
  }
  return policies;
}

/** Which of `fromAccountIds` each of `accountIds` has accepted: recipient → accepted actors (a superset query). */
export async function findAcceptedActors(
  db: Db,
  accountIds: readonly string[],
  fromAccountIds: readonly string[],
): Promise<Map<string, Set<string>>> {
  const accepted = new Map<string, Set<string>>();
  const recipients = [...new Set(accountIds)];
  const actors = [...new Set(fromAccountIds)];
  if (recipients.length === 0 || actors.length === 0) return accepted;
  const rows = await executeCached(db, 'findAcceptedActors', [listValue(db, recipients), listValue(db, actors)], (param) =>
    db
      .selectFrom('notification_permissions')
      .select(['account_id', 'from_account_id'])
      .where(inList(db, 'account_id', param(0), 'text'))
      .where(inList(db, 'from_account_id', param(1), 'text')),
  );
  for (const row of rows) {
    let set = accepted.get(row.account_id);
    if (!set) accepted.set(row.account_id, (set = new Set()));
    set.add(row.from_account_id);
  }
  return accepted;
}
