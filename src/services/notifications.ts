// The client's view of its notifications (SPEC §4): listing, one, dismissal and the unread count.
import { notFound } from '../domain/errors.js';
import type { ListingFilter } from '../domain/notification-filter.js';
import type { PageQuery } from '../domain/pagination.js';
import { markerPosition, parseRecordId } from '../domain/params.js';
import { findMarker } from '../store/markers.js';
import {
  countNotifications,
  deleteNotifications,
  findVisibleNotification,
  listNotifications,
  type NotificationRow,
} from '../store/notifications.js';
import type { Db } from '../store/schema.js';
import type { NotificationContext } from '../http/serializers/notification.js';
import { contextFromViews } from './notification-views.js';

export interface NotificationPage {
  readonly rows: readonly NotificationRow[];
  readonly context: NotificationContext;
}

export async function listPage(db: Db, accountId: string, filter: ListingFilter, page: PageQuery): Promise<NotificationPage> {
  const rows = await listNotifications(db, accountId, filter, page);
  return { rows, context: contextFromViews(rows, filter.supportedTypes) };
}

/** One notification; `supportedTypes` as the listing's (SPEC §4.1: the fallback works here too). */
export async function showNotification(
  db: Db,
  accountId: string,
  rawId: unknown,
  supportedTypes?: ReadonlySet<string>,
): Promise<NotificationPage> {
  const id = parseRecordId(rawId);
  const row = id === undefined ? undefined : await findVisibleNotification(db, accountId, id);
  if (!row) throw notFound();
  return { rows: [row], context: contextFromViews([row], supportedTypes) };
}

/** Dismisses one of the caller's notifications, hidden ones included; another account's id is a 404. */
export async function dismissNotification(db: Db, accountId: string, rawId: unknown): Promise<void> {
  const id = parseRecordId(typeof rawId === 'number' ? String(rawId) : rawId);
  const deleted = id === undefined ? 0 : await db.transaction().execute((trx) => deleteNotifications(trx, accountId, [id]));
  if (deleted === 0) throw notFound();
}

export async function clearNotifications(db: Db, accountId: string): Promise<void> {
  await db.transaction().execute((trx) => deleteNotifications(trx, accountId));
}

/** Matching notifications above the caller's notifications marker, capped (SPEC §4.2). */
export async function unreadCount(db: Db, accountId: string, filter: ListingFilter, cap: number): Promise<number> {
  const marker = await findMarker(db, accountId, 'notifications');
  return countNotifications(db, accountId, filter, markerPosition(marker?.last_read_id), cap);
}
