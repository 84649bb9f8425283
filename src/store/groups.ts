// Grouped reads of one recipient's notifications (SPEC §6). The walk reads the (account_id, id) index;
// group totals, samples and group-wide reads use the (account_id, group_key, id) index.
import { sql, type Compilable, type RawBuilder } from 'kysely';
import type { GroupRange, GroupSampleRow, GroupStatsRow } from '../domain/grouping.js';
import { pageRange, type PageQuery } from '../domain/pagination.js';
import type { Dialect } from './migrations.js';
import { executeCached, literalLimit } from './open-store.js';
import type { Db } from './schema.js';
import { JSON_COLUMNS, visibleNotifications, type NotificationFilter, type NotificationView } from './notifications.js';

/**
 * Key lists in cached queries are padded with '' (no group key is empty) up to a power of two, so a few
 * shapes serve pages of every size and the template cache that every hot query shares is not flooded
 * with one shape per length. Longer lists are built afresh each time.
 */
const MAX_CACHED_KEYS = 128;

export function padKeys(keys: readonly string[]): string[] | undefined {
  if (keys.length > MAX_CACHED_KEYS) return undefined;
  let size = keys.length === 0 ? 0 : 1;
  while (size < keys.length) size *= 2;
  return [...keys, ...new Array<string>(size - keys.length).fill('')];
}

/** The next slice of a walk: ids strictly between the bounds, groups already represented left out. */
export interface WalkSlice {
  readonly lower?: number;
  readonly upper?: number;
  readonly ascending: boolean;
  readonly skipKeys: readonly string[];
  readonly limit: number;
}

type SliceColumns = 'rows' | 'keys';

/**
 * A walk slice is the hottest v2 read, so it is compiled once per shape (executeCached, as the v1 page):
 * the shape names what changes the SQL, the values fill its placeholders in this order: account, types,
 * excluded types, actor, lower and upper cursor, limit, skipped keys.
 */
async function runSlice<R>(db: Db, accountId: string, filter: NotificationFilter, slice: WalkSlice, columns: SliceColumns): Promise<R[]> {
  const types = filter.types ?? [];
  const excluded = filter.excludeTypes ?? [];
  const padded = padKeys(slice.skipKeys);
  const skipKeys = padded ?? slice.skipKeys;
  const values = [accountId, ...types, ...excluded, filter.fromAccountId, slice.lower, slice.upper, ...skipKeys];
  const shape = [
    'walkSlice',
    slice.limit,
    columns,
    filter.types === undefined ? '-' : types.length,
    excluded.length,
    filter.fromAccountId !== undefined,
    filter.includeFiltered,
    slice.lower !== undefined,
    slice.upper !== undefined,
    slice.ascending,
    skipKeys.length,
  ].join(' ');
  return executeCached<R>(db, padded && shape, values, (param) => {
    let at = 1;
    const next = () => param(at++);
    const typeParams = types.map(next);
    const excludedParams = excluded.map(next);
    const [from, low, high] = [next(), next(), next()];
    const skip = skipKeys.map(next);
    let query = visibleNotifications(db, param(0), {
      types: filter.types === undefined ? undefined : typeParams,
      excludeTypes: filter.excludeTypes === undefined ? undefined : excludedParams,
      fromAccountId: filter.fromAccountId === undefined ? undefined : from,
      includeFiltered: filter.includeFiltered,
    });
    if (slice.lower !== undefined) query = query.where('notifications.id', '>', low);
    if (slice.upper !== undefined) query = query.where('notifications.id', '<', high);
    if (skip.length > 0) {
      // The database still steps over a big group's rows, but they never travel to us.
      query = query.where((eb) => eb.or([eb('notifications.group_key', 'is', null), eb('notifications.group_key', 'not in', skip)]));
    }
    query = query.orderBy('notifications.id', slice.ascending ? 'asc' : 'desc').limit(literalLimit(slice.limit));
    return (
      columns === 'rows'
        ? query.leftJoin('statuses', 'statuses.id', 'notifications.status_id').selectAll('notifications').select(JSON_COLUMNS)
        : query.select(['notifications.id', 'notifications.type', 'notifications.group_key'])
    ) as unknown as Compilable<R>;
  });
}

/** Whole rows of a walk slice with their JSON: the representatives come straight from them. */
export async function listWalkRows(db: Db, accountId: string, filter: NotificationFilter, slice: WalkSlice): Promise<NotificationView[]> {
  return runSlice<NotificationView>(db, accountId, filter, slice, 'rows');
}

/** Only what decides a group, for counting groups. */
export async function listWalkKeys(
  db: Db,
  accountId: string,
  filter: NotificationFilter,
  slice: WalkSlice,
): Promise<{ id: number; type: string; group_key: string | null }[]> {
  return runSlice(db, accountId, filter, slice, 'keys');
}

/**
 * Each group's count up to `range.upper` and smallest id from `range.lower`: one grouped aggregate on the
 * (account_id, group_key, id) index for a whole page of groups.
 */
export async function loadGroupStats(db: Db, accountId: string, groupKeys: readonly string[], range: GroupRange): Promise<GroupStatsRow[]> {
  if (groupKeys.length === 0) return [];
  // Compiled once per shape; values: account, lower, upper, keys.
  const padded = padKeys(groupKeys);
  const keys = padded ?? groupKeys;
  const shape = ['groupStats', keys.length, range.lower !== undefined, range.upper !== undefined].join(' ');
  const rows = await executeCached<{ group_key: string | null; count: number; min_id_in_range: number | null }>(
    db,
    padded && shape,
    [accountId, range.lower, range.upper, ...keys],
    (param) => {
      const id = sql.ref('notifications.id');
      const minInRange =
        range.lower === undefined ? sql<number>`min(${id})` : sql<number | null>`min(case when ${id} >= ${param(1)} then ${id} end)`;
      let query = visibleNotifications(db, param(0), { includeFiltered: true })
        .where('notifications.group_key', 'in', keys.map((_, i) => param(3 + i)))
        .select((eb) => ['notifications.group_key', eb.fn.countAll<number>().as('count'), minInRange.as('min_id_in_range')])
        .groupBy('notifications.group_key');
      if (range.upper !== undefined) query = query.where('notifications.id', '<=', param(2));
      return query;
    },
  );
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
 * with filtered ones included (group members are never filtered).
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
  // Compiled once per shape; values: account, upper, then the keys (one array on PostgreSQL).
  const postgres = dialect === 'postgres';
  const padded = postgres ? [...groupKeys] : padKeys(groupKeys);
  const keys = padded ?? groupKeys;
  const shape = ['groupSamples', dialect, sampleSize, upper !== undefined, postgres ? '' : keys.length].join(' ');
  const values = postgres ? [accountId, upper, keys] : [accountId, upper, ...keys];
  const rows = await executeCached<GroupSample>(db, padded && shape, values, (param) => {
    const top = upper === undefined ? sql`` : sql` and n.id <= ${param(1)}`;
    const newest = (key: RawBuilder<unknown>) => sql`select n.group_key, n.id, n.from_account_id, n.created_at, a.json as account_json
      from notifications n inner join accounts a on a.id = n.from_account_id
      where n.account_id = ${param(0)} and a.suspended = 0 and n.group_key = ${key}${top}
      order by n.id desc limit ${literalLimit(sampleSize)}`;
    const query = postgres
      ? sql<GroupSample>`select s.* from unnest(cast(${param(2)} as text[])) as k(key)
          cross join lateral (${newest(sql.ref('k.key'))}) s`
      : sql<GroupSample>`${sql.join(keys.map((_, i) => sql`select * from (${newest(sql`${param(2 + i)}`)}) s`), sql` union all `)}`;
    return { compile: () => query.compile(db) };
  });
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
    .select(JSON_COLUMNS)
    .orderBy('notifications.id', 'desc')
    .limit(literalLimit(1))
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
  const rows = await query.orderBy('notifications.id', ascending ? 'asc' : 'desc').limit(literalLimit(page.limit)).execute();
  return ascending ? rows.reverse() : rows;
}

/** Deletes every notification of one of the recipient's groups, with their queued pushes. */
export async function deleteGroup(db: Db, accountId: string, groupKey: string): Promise<void> {
  const ids = db.selectFrom('notifications').select('id').where('account_id', '=', accountId).where('group_key', '=', groupKey);
  await db.deleteFrom('deliveries').where('account_id', '=', accountId).where('notification_id', 'in', ids).execute();
  await db.deleteFrom('notifications').where('account_id', '=', accountId).where('group_key', '=', groupKey).execute();
}
