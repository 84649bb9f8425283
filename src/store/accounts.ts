// Accounts and statuses as the host platform gave them: JSON kept as text, plus the columns queries need.
import type { Selectable } from 'kysely';
import { inList, listValue } from './bound-lists.js';
import { executeCached } from './open-store.js';
import type { Db, AccountsTable, StatusesTable } from './schema.js';

export type AccountRow = Selectable<AccountsTable>;

export async function upsertAccount(db: Db, row: AccountRow): Promise<void> {
  const { id, ...rest } = row;
  await db
    .insertInto('accounts')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet(rest))
    .execute();
}

export async function findAccount(db: Db, id: string): Promise<AccountRow | undefined> {
  return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findAccounts(db: Db, ids: readonly string[]): Promise<Map<string, AccountRow>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await executeCached<AccountRow>(db, 'findAccounts', [listValue(db, unique)], (param) =>
    db.selectFrom('accounts').selectAll().where(inList(db, 'id', param(0), 'text')),
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** Removes an account and everything that is its own; notifications it caused hide through the actor join. */
export async function deleteAccount(db: Db, id: string): Promise<void> {
  await db.deleteFrom('deliveries').where('account_id', '=', id).execute();
  await db.deleteFrom('push_subscriptions').where('account_id', '=', id).execute();
  await db.deleteFrom('tokens').where('account_id', '=', id).execute();
  await db.deleteFrom('notifications').where('account_id', '=', id).execute();
  await db.deleteFrom('markers').where('account_id', '=', id).execute();
  await db.deleteFrom('idempotency_keys').where('account_id', '=', id).execute();
  await db.deleteFrom('group_buckets').where('account_id', '=', id).execute();
  await db.deleteFrom('notification_policies').where('account_id', '=', id).execute();
  await db.deleteFrom('notification_permissions').where('account_id', '=', id).execute();
  await db.deleteFrom('notification_requests').where((eb) => eb.or([eb('account_id', '=', id), eb('from_account_id', '=', id)])).execute();
  await db.deleteFrom('accounts').where('id', '=', id).execute();
}

export type StatusRow = Selectable<StatusesTable>;

export async function upsertStatus(db: Db, row: StatusRow): Promise<void> {
  const { id, ...rest } = row;
  await db
    .insertInto('statuses')
    .values(row)
    .onConflict((oc) => oc.column('id').doUpdateSet(rest))
    .execute();
}

export async function findStatus(db: Db, id: string): Promise<StatusRow | undefined> {
  return db.selectFrom('statuses').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findStatuses(db: Db, ids: readonly string[]): Promise<Map<string, StatusRow>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await executeCached<StatusRow>(db, 'findStatuses', [listValue(db, unique)], (param) =>
    db.selectFrom('statuses').selectAll().where(inList(db, 'id', param(0), 'text')),
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** Deletes a status and the notifications whose payload it is (with their queued pushes). */
export async function deleteStatus(db: Db, id: string): Promise<void> {
  const ids = db.selectFrom('notifications').select('id').where('status_id', '=', id);
  await db.deleteFrom('deliveries').where('notification_id', 'in', ids).execute();
  await db.deleteFrom('notifications').where('status_id', '=', id).execute();
  await db.deleteFrom('statuses').where('id', '=', id).execute();
}
