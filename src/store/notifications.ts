// Notification rows: every query stays on one recipient's (account_id, id) range.
import { sql, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Database, Db, NotificationsTable } from './schema.js';
import { pageRange, type PageQuery } from '../domain/pagination.js';
import { inList, isPostgres, listValue, rowsFrom, rowsValues, selectRows, type RowColumn } from './bound-lists.js';
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

/**
 * A string as it reads back when it was valid UTF-16: a lone surrogate has no UTF-8, so node-postgres
 * writes (and PostgreSQL compares and returns) U+FFFD in its place; better-sqlite3 writes bytes of its own
 * and reads them back as U+FFFDs. storedText(s) === s says a string reads back as written on both engines.
 */
export const storedText = (value: string): string =>
  value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');


/** The inserted columns as a batch's bound rows carry them, with their PostgreSQL types. */
const INSERTED_ROW: readonly RowColumn[] = INSERTED_COLUMNS.map((name) => ({
  name,
  type: name === 'filtered' || name === 'relationship' ? 'integer' : name === 'created_at' ? 'bigint' : 'text',
}));

/**
 * Ingest's insert of a whole batch, returned in the order given: one statement from the rows bound as one
 * value (bound-lists.ts), the same SQL for every batch, where a 1,000-row VALUES list cost ~30 ms to build,
 * parse and plan on PostgreSQL (bench profile). Ids are assigned in the order of the rows given on both
 * engines (a sequence's nextval, SQLite's rowid), as one insert per row assigned them; RETURNING's own
 * order is unspecified, so the rows come back sorted by id, each checked against the row it stands for.
 */
export async function insertNotifications(db: Db, rows: readonly Omit<NotificationRow, 'id'>[]): Promise<NotificationRow[]> {
  if (rows.length === 0) return [];
  const values = rowsValues(db, INSERTED_ROW, rows.map((row) => INSERTED_COLUMNS.map((column) => row[column] ?? null)));
  const returned = await executeCached<NotificationRow>(db, 'insertNotifications', values, (param) => {
    const columns = sql.join(INSERTED_COLUMNS.map((column) => sql.ref(column)));
    const query = sql<NotificationRow>`insert into notifications (${columns}) ${selectRows(db, INSERTED_ROW, param)} returning *`;
    return { compile: () => query.compile(db) };
  });
  returned.sort((a, b) => a.id - b.id);
  if (returned.length !== rows.length) throw new Error(`insert into notifications returned ${returned.length} rows for ${rows.length}`);
  returned.forEach((row, r) => {
    const given = rows[r];
    // Text that is not valid UTF-16 reads back otherwise (each engine its own way): not compared.
    const differs = (column: (typeof INSERTED_COLUMNS)[number]) => {
      const value = given[column] ?? null;
      return typeof value === 'string' && storedText(value) !== value ? false : row[column] !== value;
    };
    if (INSERTED_COLUMNS.some(differs)) {
      throw new Error('insert into notifications returned rows that are not the ones given, in order');
    }
  });
  return returned;
}

/** What de-duplication looks for (SPEC §2): without `fromAccountId`, every actor's notification. */
export interface IdentityKey {
  readonly accountId: string;
  readonly type: string;
  readonly targetId: string | null;
  readonly fromAccountId?: string;
}

/**
 * The stored notifications matching each of `keys` as findIdentical matches one, each with the index of
 * the key it matched: a batch's lookups in one statement per kind of key (with or without a target, with or
 * without an actor), one probe of the identity index per key. A row is matched to its key by the database
 * (text that is not valid UTF-16 does not read back as it was written).
 */
export async function findIdenticalMany(db: Db, keys: readonly IdentityKey[]): Promise<{ index: number; row: NotificationRow }[]> {
  const kinds = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const kind = `${key.targetId === null ? 'null' : 'target'} ${key.fromAccountId === undefined ? 'any' : 'actor'}`;
    let list = kinds.get(kind);
    if (!list) kinds.set(kind, (list = []));
    list.push(i);
  });
  const found: { index: number; row: NotificationRow }[] = [];
  for (const indexes of kinds.values()) {
    const first = keys[indexes[0]];
    const columns = ['account_id', 'type', ...(first.targetId === null ? [] : ['target_id']), ...(first.fromAccountId === undefined ? [] : ['from_account_id'])];
    const tuples = indexes.map((i) => {
      const key = keys[i];
      return [key.accountId, key.type, ...(key.targetId === null ? [] : [key.targetId]), ...(key.fromAccountId === undefined ? [] : [key.fromAccountId])];
    });
    const rows = await findByTuples<NotificationRow>(db, 'notifications', columns, tuples, first.targetId === null ? 'target_id' : undefined);
    for (const { index, row } of rows) found.push({ index: indexes[index], row });
  }
  return found;
}

/**
 * The rows of `table` whose `columns` equal each tuple of text values (and whose `nullColumn` is null),
 * each with the index of its tuple: one index probe per tuple, the tuples bound as one value
 * (bound-lists.ts), the same statement for every batch. On PostgreSQL a 1,000-row VALUES list took ~25 ms
 * to plan, and on a table without statistics yet was planned as a scan of the whole table; the probes go
 * through LATERAL … OFFSET 0 so the planner cannot turn them into such a join.
 */
export async function findByTuples<R>(
  db: Db,
  table: 'notifications' | 'idempotency_keys' | 'group_buckets',
  columns: readonly string[],
  tuples: readonly (readonly string[])[],
  nullColumn?: string,
): Promise<{ index: number; row: R }[]> {
  if (tuples.length === 0) return [];
  const keyRow: RowColumn[] = [...columns.map((name) => ({ name, type: 'text' as const })), { name: 'key_index', type: 'integer' }];
  const values = rowsValues(db, keyRow, tuples.map((t, i) => [...t, i]));
  const shape = ['findByTuples', table, ...columns, nullColumn ?? ''].join(' ');
  const rows = await executeCached<R & { key_index: number }>(db, shape, values, (param) => {
    const equal = columns.map((c) => sql`t.${sql.ref(c)} = k.${sql.ref(c)}`);
    if (nullColumn !== undefined) equal.push(sql`t.${sql.ref(nullColumn)} is null`);
    const match = sql.join(equal, sql` and `);
    const keys = rowsFrom(db, 'k', keyRow, param);
    const query = isPostgres(db)
      ? sql<R & { key_index: number }>`select k.key_index, t.* from ${keys}
          cross join lateral (select * from ${sql.table(table)} t where ${match} offset 0) t`
      : sql<R & { key_index: number }>`select k.key_index, t.* from ${keys} join ${sql.table(table)} t on ${match}`;
    return { compile: () => query.compile(db) };
  });
  return rows.map(({ key_index, ...row }) => ({ index: Number(key_index), row: row as unknown as R }));
}

/** Notifications by id (an idempotency key's earlier results), in no particular order. */
export async function findNotificationsByIds(db: Db, ids: readonly number[]): Promise<NotificationRow[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  return executeCached<NotificationRow>(db, 'findNotificationsByIds', [listValue(db, unique)], (param) =>
    db.selectFrom('notifications').selectAll().where(inList(db, 'id', param(0), 'bigint')),
  );
}

/** Deletes notifications by id with their queued pushes (ingest's replaced ones, of any recipients). */
export async function deleteNotificationsByIds(db: Db, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  const list = [listValue(db, ids)];
  await executeCached(db, 'deleteNotificationDeliveries', list, (param) =>
    db.deleteFrom('deliveries').where(inList(db, 'notification_id', param(0), 'bigint')),
  );
  await executeCached(db, 'deleteNotificationsByIds', list, (param) =>
    db.deleteFrom('notifications').where(inList(db, 'id', param(0), 'bigint')),
  );
}
