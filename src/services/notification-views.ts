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

/**
 * The context for rows whose actors and statuses were mostly read just now (an ingest's): only the
 * missing ones are loaded. On a 1,000-event batch this saves reading ~2,000 accounts a second time.
 */
export async function completeNotificationContext(
  db: Db,
  rows: readonly NotificationRow[],
  known: NotificationContext,
): Promise<NotificationContext> {
  const isKnown = (r: NotificationRow) =>
    known.accounts.has(r.from_account_id) && (r.status_id === null || known.statuses.has(r.status_id));
  const missing = rows.filter((r) => !isKnown(r));
  if (missing.length === 0) return known;
  const loaded = await loadNotificationContext(db, missing);
  return {
    accounts: new Map([...known.accounts, ...loaded.accounts]),
    statuses: new Map([...known.statuses, ...loaded.statuses]),
  };
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
