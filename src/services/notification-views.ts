// Loads what serializing a page of notifications needs: its actors and statuses, one query each.
import { findAccounts, findStatuses } from '../store/accounts.js';
import type { NotificationRow } from '../store/notifications.js';
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
