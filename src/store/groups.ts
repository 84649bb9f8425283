// Grouped reads of one recipient's notifications (SPEC §6). The walk reads the (account_id, id) index;
// group totals, samples and group-wide reads use the (account_id, group_key, id) index.
import { sql, type RawBuilder } from 'kysely';
import type { GroupRange, GroupSampleRow, GroupStatsRow } from '../domain/grouping.js';
import { pageRange, type PageQuery } from '../domain/pagination.js';
import type { Dialect } from './migrations.js';
import type { Db } from './schema.js';
import { visibleNotifications, type NotificationFilter, type NotificationView } from './notifications.js';

// The actor join is there anyway (it hides suspended actors): reading the actor's and status's JSON with
// the row spares the page a query for each.
const VIEW_COLUMNS = [
  'accounts.json as account_json',
  'accounts.username as account_username',
  'statuses.json as status_json',
] as const;

/** The next slice of a walk: ids strictly between the bounds, groups already represented left out. */
export interface WalkSlice {
  readonly lower?: number;
  readonly upper?: number;
  readonly ascending: boolean;
  readonly skipKeys: readonly string[];
  readonly limit: number;
}

function sliceQuery(db: Db, accountId: string, filter: NotificationFilter, slice: WalkSlice) {
  let query = visibleNotifications(db, accountId, filter);
  if (slice.lower !== undefined) query = query.where('notifications.id', '>', slice.lower);
  if (slice.upper !== undefined) query = query.where('notifications.id', '<', slice.upper);
  if (slice.skipKeys.length > 0) {
    // The database still steps over a big group's rows, but they never travel to us.
    query = query.where((eb) =>
      eb.or([eb('notifications.group_key', 'is', null), eb('notifications.group_key', 'not in', slice.skipKeys)]),
    );
  }
  return query.orderBy('notifications.id', slice.ascending ? 'asc' : 'desc').limit(slice.limit);
}

/** Whole rows of a walk slice with their JSON: the representatives come straight from them. */
export async function listWalkRows(db: Db, accountId: string, filter: NotificationFilter, slice: WalkSlice): Promise<NotificationView[]> {
  return sliceQuery(db, accountId, filter, slice)
    .leftJoin('statuses', 'statuses.id', 'notifications.status_id')
    .selectAll('notifications')
    .select(VIEW_COLUMNS)
    .execute();
}

/** Only what decides a group, for counting groups. */
export async function listWalkKeys(
  db: Db,
  accountId: string,
  filter: NotificationFilter,
  slice: WalkSlice,
): Promise<{ id: number; type: string; group_key: string | null }[]> {
  return sliceQuery(db, accountId, filter, slice)
    .select(['notifications.id', 'notifications.type', 'notifications.group_key'])
    .execute();
}

/**
 * Each group's count up to `range.upper` and smallest id from `range.lower`: one grouped aggregate on the
 * (account_id, group_key, id) index for a whole page of groups.
 */
export async function loadGroupStats(db: Db, accountId: string, groupKeys: readonly string[], range: GroupRange): Promise<GroupStatsRow[]> {
  if (groupKeys.length === 0) return [];
  const id = sql.ref('notifications.id');
  const minInRange = range.lower === undefined ? sql<number>`min(${id})` : sql<number | null>`min(case when ${id} >= ${range.lower} then ${id} end)`;
  let query = visibleNotifications(db, accountId, { includeFiltered: true })
    .where('notifications.group_key', 'in', groupKeys)
    .select((eb) => ['notifications.group_key', eb.fn.countAll<number>().as('count'), minInRange.as('min_id_in_range')])
    .groupBy('notifications.group_key');
  if (range.upper !== undefined) query = query.where('notifications.id', '<=', range.upper);
  const rows = await query.execute();
  return rows.map((r) => ({
    group_key: r.group_key ?? '',
    count: Number(r.count),
    min_id_in_range: r.min_id_in_range === null ? null : Number(r.min_id_in_range),
  }));
}

/** A sample row with its actor's JSON. */
export type GroupSample = GroupSampleRow & { readonly account_json: string };

/**
 * The newest `sampleSize` visible notifications of each group up to `upper`, with their actors' JSON: one
 * index seek of a few rows per group on (account_id, group_key, id), where a window over every row up to
 * the top sorted them all (measured twice as slow on large groups, on both engines). PostgreSQL runs it as
 * one LATERAL subquery per key (a UNION of many branches costs it milliseconds of planning); SQLite has no
 * LATERAL and plans a UNION ALL cheaply. Written as SQL text: the conditions are visibleNotifications'
 * with filtered ones included (group members are never filtered). The sample size is a literal: SQLite
 * ran these branches four times slower with a bound LIMIT.
 */
export async function loadGroupSamples(
  db: Db,
  dialect: Dialect,
  accountId: string,
  groupKeys: readonly string[],
  upper: number | undefined,
  sampleSize: number,
): Promise<GroupSample[]> {
  if (groupKeys.length === 0 || !Number.isSafeInteger(sampleSize) || sampleSize <= 0) return [];
  const top = upper === undefined ? sql`` : sql` and n.id <= ${upper}`;
  const newest = (key: RawBuilder<unknown>) => sql`select n.group_key, n.id, n.from_account_id, n.created_at, a.json as account_json
    from notifications n inner join accounts a on a.id = n.from_account_id
    where n.account_id = ${accountId} and a.suspended = 0 and n.group_key = ${key}${top}
    order by n.id desc limit ${sql.lit(sampleSize)}`;
  const query =
    dialect === 'postgres'
      ? sql<GroupSample>`select s.* from unnest(cast(${[...groupKeys]} as text[])) as k(key)
          cross join lateral (${newest(sql.ref('k.key'))}) s`
      : sql<GroupSample>`${sql.join(groupKeys.map((key) => sql`select * from (${newest(sql`${key}`)}) s`), sql` union all `)}`;
  const { rows } = await query.execute(db);
  return rows.map((r) => ({
    group_key: r.group_key,
    id: Number(r.id),
    from_account_id: r.from_account_id,
    created_at: Number(r.created_at),
    account_json: r.account_json,
  }));
}

/** The newest visible notification of a group, with its JSON. */
export async function findGroupHead(db: Db, accountId: string, groupKey: string): Promise<NotificationView | undefined> {
  return visibleNotifications(db, accountId, { includeFiltered: true })
    .where('notifications.group_key', '=', groupKey)
    .leftJoin('statuses', 'statuses.id', 'notifications.status_id')
    .selectAll('notifications')
    .select(VIEW_COLUMNS)
    .orderBy('notifications.id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export interface ActorRow {
  id: number;
  from_account_id: string;
  account_json: string;
}

/** A page of a group's visible notifications (ids and actors' JSON), newest first, paged by notification id. */
export async function listGroupActors(db: Db, accountId: string, groupKey: string, page: PageQuery): Promise<ActorRow[]> {
  if (page.limit <= 0) return [];
  const { lower, upper, ascending } = pageRange(page);
  let query = visibleNotifications(db, accountId, { includeFiltered: true })
    .where('notifications.group_key', '=', groupKey)
    .select(['notifications.id', 'notifications.from_account_id', 'accounts.json as account_json']);
  if (lower !== undefined) query = query.where('notifications.id', '>', lower);
  if (upper !== undefined) query = query.where('notifications.id', '<', upper);
  const rows = await query.orderBy('notifications.id', ascending ? 'asc' : 'desc').limit(page.limit).execute();
  return ascending ? rows.reverse() : rows;
}

/** Deletes every notification of one of the recipient's groups, with their queued pushes. */
export async function deleteGroup(db: Db, accountId: string, groupKey: string): Promise<void> {
  const ids = db.selectFrom('notifications').select('id').where('account_id', '=', accountId).where('group_key', '=', groupKey);
  await db.deleteFrom('deliveries').where('account_id', '=', accountId).where('notification_id', 'in', ids).execute();
  await db.deleteFrom('notifications').where('account_id', '=', accountId).where('group_key', '=', groupKey).execute();
}
