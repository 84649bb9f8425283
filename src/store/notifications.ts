// Notification rows: every query stays on one recipient's (account_id, id) range.
import type { Selectable, SelectQueryBuilder } from 'kysely';
import type { Database, Db, NotificationsTable } from './schema.js';
import { pageRange, type PageQuery } from '../domain/pagination.js';
import { executeCached, literalLimit } from './open-store.js';

export type NotificationRow = Selectable<NotificationsTable>;

/** What a client asked to see. `types: []` means none of the asked types exist: nothing matches. */
export interface NotificationFilter {
  readonly types?: readonly string[];
  readonly excludeTypes?: readonly string[];
  readonly fromAccountId?: string;
  readonly includeFiltered: boolean;
}

type NotificationQuery = SelectQueryBuilder<Database, 'notifications' | 'accounts', object>;

/** Visible notifications of one recipient: actors that are suspended or removed are hidden (SPEC §3). */
export function visibleNotifications(db: Db, accountId: string, filter: NotificationFilter): NotificationQuery {
  let query = db
    .selectFrom('notifications')
    .innerJoin('accounts', 'accounts.id', 'notifications.from_account_id')
    .where('notifications.account_id', '=', accountId)
    .where('accounts.suspended', '=', 0);
  if (filter.types !== undefined) {
    query = filter.types.length === 0 ? query.where((eb) => eb.val(1), '=', 0) : query.where('notifications.type', 'in', filter.types);
  }
  if (filter.excludeTypes !== undefined && filter.excludeTypes.length > 0) {
    query = query.where('notifications.type', 'not in', filter.excludeTypes);
  }
  if (filter.fromAccountId !== undefined) query = query.where('notifications.from_account_id', '=', filter.fromAccountId);
  if (!filter.includeFiltered) query = query.where('notifications.filtered', '=', 0);
  return query;
}

const COLUMNS = [
  'notifications.id',
  'notifications.account_id',
  'notifications.type',
  'notifications.from_account_id',
  'notifications.status_id',
  'notifications.target_id',
  'notifications.payload',
  'notifications.group_key',
  'notifications.filtered',
  'notifications.relationship',
  'notifications.created_at',
] as const;

/** A notification with its actor's and status's stored JSON, ready to serialize. */
export interface NotificationView extends NotificationRow {
  account_json: string;
  account_username: string;
  status_json: string | null;
}

// The actor join is there anyway (to hide suspended actors): reading its JSON in the same query, and the
// status's through one more index lookup, answers a page with one query instead of three.
export const JSON_COLUMNS = [
  'accounts.json as account_json',
  'accounts.username as account_username',
  'statuses.json as status_json',
] as const;
const VIEW_COLUMNS = [...COLUMNS, ...JSON_COLUMNS] as const;

/** One page, newest first (SPEC §1.6: with min_id the rows just above the cursor, walked oldest first). */
export async function listNotifications(
  db: Db,
  accountId: string,
  filter: NotificationFilter,
  page: PageQuery,
): Promise<NotificationView[]> {
  if (page.limit <= 0) return [];
  const { lower, upper, ascending } = pageRange(page);
  const types = filter.types ?? [];
  const excluded = filter.excludeTypes ?? [];
  // The listing is the hottest read: compiled once per shape (executeCached). Values, in this order:
  // account, types, excluded types, actor, lower cursor, upper cursor. The limit is part of the SQL (see
  // literalLimit).
  const values = [accountId, ...types, ...excluded, filter.fromAccountId, lower, upper];
  const shape = [
    'listNotifications',
    page.limit,
    filter.types === undefined ? '-' : types.length,
    excluded.length,
    filter.fromAccountId !== undefined,
    filter.includeFiltered,
    lower !== undefined,
    upper !== undefined,
    ascending,
  ].join(' ');
  const rows = await executeCached<NotificationView>(db, shape, values, (param) => {
    let at = 1;
    const next = () => param(at++);
    const placeholders: NotificationFilter = {
      types: filter.types === undefined ? undefined : types.map(next),
      excludeTypes: filter.excludeTypes === undefined ? undefined : excluded.map(next),
      includeFiltered: filter.includeFiltered,
    };
    const from = next();
    const [low, high] = [next(), next()];
    let query = visibleNotifications(db, param(0), {
      ...placeholders,
      fromAccountId: filter.fromAccountId === undefined ? undefined : from,
    })
      .leftJoin('statuses', 'statuses.id', 'notifications.status_id')
      .select(VIEW_COLUMNS);
    if (lower !== undefined) query = query.where('notifications.id', '>', low);
    if (upper !== undefined) query = query.where('notifications.id', '<', high);
    return query.orderBy('notifications.id', ascending ? 'asc' : 'desc').limit(literalLimit(page.limit));
  });
  return ascending ? rows.reverse() : rows;
}

export async function findVisibleNotification(db: Db, accountId: string, id: number): Promise<NotificationView | undefined> {
  return visibleNotifications(db, accountId, { includeFiltered: true })
    .leftJoin('statuses', 'statuses.id', 'notifications.status_id')
    .select(VIEW_COLUMNS)
    .where('notifications.id', '=', id)
    .executeTakeFirst();
}

/** Counts matching notifications above `afterId`, stopping at `cap` so a huge backlog costs no more than the cap. */
export async function countNotifications(
  db: Db,
  accountId: string,
  filter: NotificationFilter,
  afterId: number | undefined,
  cap: number,
): Promise<number> {
  if (cap <= 0) return 0;
  let inner = visibleNotifications(db, accountId, filter).select('notifications.id');
  if (afterId !== undefined) inner = inner.where('notifications.id', '>', afterId);
  const row = await db
    .selectFrom(inner.limit(literalLimit(cap)).as('unread'))
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Deletes notifications (and their queued pushes) of one recipient; returns how many went. */
export async function deleteNotifications(db: Db, accountId: string, ids?: readonly number[]): Promise<number> {
  if (ids !== undefined && ids.length === 0) return 0;
  let doomed = db.selectFrom('notifications').select('id').where('account_id', '=', accountId);
  if (ids) doomed = doomed.where('id', 'in', ids);
  await db.deleteFrom('deliveries').where('account_id', '=', accountId).where('notification_id', 'in', doomed).execute();
  let del = db.deleteFrom('notifications').where('account_id', '=', accountId);
  if (ids) del = del.where('id', 'in', ids);
  const result = await del.executeTakeFirst();
  return Number(result.numDeletedRows);
}

const INSERTED_COLUMNS = [
  'account_id',
  'type',
  'from_account_id',
  'status_id',
  'target_id',
  'payload',
  'group_key',
  'filtered',
  'relationship',
  'created_at',
] as const;

/** Ingest's insert, compiled once (executeCached): one per event on the hot path. */
export async function insertNotification(db: Db, row: Omit<NotificationRow, 'id'>): Promise<NotificationRow> {
  const values = INSERTED_COLUMNS.map((column) => row[column]);
  if (values.includes(undefined as never)) {
    // Kysely leaves undefined values out of the insert; the cached statement has every column.
    return db.insertInto('notifications').values(row).returningAll().executeTakeFirstOrThrow();
  }
  const [inserted] = await executeCached<NotificationRow>(db, 'insertNotification', values, (param) =>
    db
      .insertInto('notifications')
      .values(Object.fromEntries(INSERTED_COLUMNS.map((column, i) => [column, param(i)])) as unknown as Omit<NotificationRow, 'id'>)
      .returningAll(),
  );
  if (!inserted) throw new Error('insert into notifications returned no row');
  return inserted;
}

export async function findNotificationById(db: Db, id: number): Promise<NotificationRow | undefined> {
  return db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The existing notification for an identical event (SPEC §2 de-duplication); compiled once per shape. */
export async function findIdentical(
  db: Db,
  key: { accountId: string; type: string; targetId: string | null; fromAccountId?: string },
): Promise<NotificationRow[]> {
  const shape = `findIdentical ${key.targetId === null} ${key.fromAccountId !== undefined}`;
  return executeCached<NotificationRow>(db, shape, [key.accountId, key.type, key.targetId, key.fromAccountId], (param) => {
    // `is null` stays literal: PostgreSQL has no `is $1`.
    let query = db
      .selectFrom('notifications')
      .selectAll()
      .where('account_id', '=', param(0))
      .where('type', '=', param(1))
      .where('target_id', key.targetId === null ? 'is' : '=', key.targetId === null ? null : param(2));
    if (key.fromAccountId !== undefined) query = query.where('from_account_id', '=', param(3));
    return query.orderBy('id', 'desc');
  });
}
