// Loads what serializing a page of notifications needs: its actors and statuses, one query each.
import { findAccounts, findStatuses } from '../store/accounts.js';
import type { NotificationRow, NotificationView } from '../store/notifications.js';
import type { Db } from '../store/schema.js';
import type { NotificationContext } from '../http/serializers/notification.js';

export async function loadNotificationContext(
  db: Db,
  rows: readonly NotificationRow[],
  supportedTypes?: ReadonlySet<string>,
): Promise<NotificationContext> {
  const statusIds = rows.flatMap((r) => (r.status_id ? [r.status_id] : []));
  const [accounts, statuses] = await Promise.all([
    findAccounts(db, rows.map((r) => r.from_account_id)),
    findStatuses(db, statusIds),
  ]);
  return { accounts, statuses, supportedTypes };
}

/** The same context from rows that carry their JSON already (the listing query joins it in). */
export function contextFromViews(views: readonly NotificationView[], supportedTypes?: ReadonlySet<string>): NotificationContext {
  const accounts = new Map<string, { json: string; username: string }>();
  const statuses = new Map<string, { json: string }>();
  for (const v of views) {
    accounts.set(v.from_account_id, { json: v.account_json, username: v.account_username });
    if (v.status_id !== null && v.status_json !== null) statuses.set(v.status_id, { json: v.status_json });
  }
  return { accounts, statuses, supportedTypes };
}
