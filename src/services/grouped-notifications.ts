// The client's view of grouped notifications (SPEC §6): a page of groups, one group, a group's actors,
// group dismissal and the unread group count. The decisions live in domain/grouping.ts; this drives I/O.
import { notFound } from '../domain/errors.js';
import {
  continueWalk,
  effectiveGroupKey,
  isUngroupedKey,
  nextChunkSize,
  pageGroupRange,
  readGroupKey,
  SAMPLE_ACCOUNTS,
  skippableKeys,
  startWalk,
  summarizeGroups,
  toGroupViews,
  ungroupedId,
  type GroupableRow,
  type GroupRange,
  type GroupView,
} from '../domain/grouping.js';
import type { ListingFilter } from '../domain/notification-filter.js';
import { GROUPABLE_TYPES } from '../domain/notification-types.js';
import { pageRange, type PageQuery } from '../domain/pagination.js';
import {
  deleteGroup,
  findGroupHead,
  listGroupActors,
  listWalkKeys,
  listWalkRows,
  loadGroupSamples,
  loadGroupStats,
  type ActorRow,
  type WalkSlice,
} from '../store/groups.js';
import { findMarker } from '../store/markers.js';
import { deleteNotifications, findVisibleNotification, type NotificationView } from '../store/notifications.js';
import type { Db } from '../store/schema.js';
import type { Store } from '../store/open-store.js';

/** The store and its engine: the sample query is written per engine. */
export type GroupStore = Pick<Store, 'db' | 'dialect'>;

export interface GroupedPage {
  readonly groups: readonly GroupView<NotificationView>[];
  /** Stored Account JSON by id. */
  readonly accounts: ReadonlyMap<string, string>;
  /** Stored Status JSON by id. */
  readonly statuses: ReadonlyMap<string, string>;
  readonly supportedTypes?: ReadonlySet<string>;
}

const NOTHING_GROUPS: ReadonlySet<string> = new Set();

/**
 * Walks the page window slice by slice until `limit` groups are represented or the window runs out.
 * Returns representatives in walk order (oldest first when paging up with `min_id`).
 */
async function walkGroups<R extends GroupableRow>(
  fetchSlice: (slice: WalkSlice) => Promise<R[]>,
  page: PageQuery,
  groupedTypes: ReadonlySet<string>,
): Promise<readonly R[]> {
  if (page.limit <= 0) return [];
  const { lower, upper, ascending } = pageRange(page);
  let walk = startWalk<R>();
  let cursor = ascending ? lower : upper;
  for (let slices = 0; ; slices++) {
    const size = nextChunkSize(page.limit - walk.representatives.length, slices);
    const rows = await fetchSlice({
      lower: ascending ? cursor : lower,
      upper: ascending ? upper : cursor,
      ascending,
      skipKeys: skippableKeys(walk),
      limit: size,
    });
    walk = continueWalk(walk, rows, page.limit, groupedTypes);
    if (walk.representatives.length >= page.limit || rows.length < size) return walk.representatives;
    cursor = rows[rows.length - 1].id;
  }
}

/** Totals and samples of the representatives' groups: two queries, whatever the page size. */
async function present(
  { db, dialect }: GroupStore,
  accountId: string,
  representatives: readonly NotificationView[],
  options: { groupedTypes: ReadonlySet<string>; range: GroupRange; withPageFields: boolean; supportedTypes?: ReadonlySet<string> },
): Promise<GroupedPage> {
  const keys = representatives.map((r) => effectiveGroupKey(r, options.groupedTypes)).filter((k) => !isUngroupedKey(k));
  const [stats, samples] = await Promise.all([
    loadGroupStats(db, accountId, keys, options.range),
    loadGroupSamples(db, dialect, accountId, keys, options.range.upper, SAMPLE_ACCOUNTS),
  ]);
  const groups = toGroupViews(representatives, summarizeGroups(stats, samples), options.groupedTypes, options.withPageFields);
  // Every JSON needed came with the rows: the representatives' actors and statuses, the samples' actors.
  const accounts = new Map<string, string>();
  const statuses = new Map<string, string>();
  for (const r of representatives) {
    accounts.set(r.from_account_id, r.account_json);
    if (r.status_id !== null && r.status_json !== null) statuses.set(r.status_id, r.status_json);
  }
  for (const sample of samples) accounts.set(sample.from_account_id, sample.account_json);
  return { groups, accounts, statuses, supportedTypes: options.supportedTypes };
}

export async function listGroupedPage(
  store: GroupStore,
  accountId: string,
  filter: ListingFilter,
  page: PageQuery,
  groupedTypes: ReadonlySet<string>,
): Promise<GroupedPage> {
  const walked = await walkGroups((slice) => listWalkRows(store.db, accountId, filter, slice), page, groupedTypes);
  const newestFirst = pageRange(page).ascending ? [...walked].reverse() : walked;
  const range = pageGroupRange(newestFirst, newestFirst.length === page.limit, page);
  return present(store, accountId, newestFirst, { groupedTypes, range, withPageFields: true, supportedTypes: filter.supportedTypes });
}

/** One group by key; `ungrouped-<id>` names a single notification, whatever its stored key. */
export async function showGroup(
  store: GroupStore,
  accountId: string,
  rawKey: unknown,
  supportedTypes?: ReadonlySet<string>,
): Promise<GroupedPage> {
  const { db } = store;
  const groupKey = readGroupKey(rawKey);
  if (groupKey === undefined) throw notFound();
  const id = ungroupedId(groupKey);
  const head = id === undefined ? await findGroupHead(db, accountId, groupKey) : await findVisibleNotification(db, accountId, id);
  if (!head) throw notFound();
  const groupedTypes = id === undefined ? GROUPABLE_TYPES : NOTHING_GROUPS;
  return present(store, accountId, [head], { groupedTypes, range: {}, withPageFields: false, supportedTypes });
}

/** The actors of a group's notifications, newest first, paged by notification id; unknown keys have none. */
export async function listGroupAccounts(db: Db, accountId: string, rawKey: unknown, page: PageQuery): Promise<readonly ActorRow[]> {
  const groupKey = readGroupKey(rawKey);
  if (groupKey === undefined) return [];
  const id = ungroupedId(groupKey);
  if (id === undefined) return listGroupActors(db, accountId, groupKey, page);
  const { lower, upper } = pageRange(page);
  const inWindow = page.limit > 0 && (lower === undefined || id > lower) && (upper === undefined || id < upper);
  const row = inWindow ? await findVisibleNotification(db, accountId, id) : undefined;
  return row ? [row] : [];
}

/** Deletes every notification of the caller's group; a key that names nothing deletes nothing. */
export async function dismissGroup(db: Db, accountId: string, rawKey: unknown): Promise<void> {
  const groupKey = readGroupKey(rawKey);
  if (groupKey === undefined) return;
  const id = ungroupedId(groupKey);
  await db.transaction().execute(async (trx) => {
    if (id !== undefined) await deleteNotifications(trx, accountId, [id]);
    else if (!isUngroupedKey(groupKey)) await deleteGroup(trx, accountId, groupKey);
  });
}

/** Groups with a notification above the caller's notifications marker (all without one), up to `cap`. */
export async function unreadGroupCount(
  db: Db,
  accountId: string,
  filter: ListingFilter,
  groupedTypes: ReadonlySet<string>,
  cap: number,
): Promise<number> {
  const marker = await findMarker(db, accountId, 'notifications');
  const lastRead = marker && /^\d{1,15}$/.test(marker.last_read_id) ? Number(marker.last_read_id) : undefined;
  // Walking up from the marker, as Mastodon does: the count is the same either way, capped.
  const page = { limit: cap, minId: lastRead };
  const walked = await walkGroups((slice) => listWalkKeys(db, accountId, filter, slice), page, groupedTypes);
  return walked.length;
}
