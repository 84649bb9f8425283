// v2 grouped notifications (SPEC §6, §12 "v2 page fields"): which group a notification shows in, the walk
// that keeps one representative per group, the id range a page's counts reach, and per-group summaries.
// Pure: the store feeds rows in, nothing here reads a database or a clock.
import { GROUPABLE_TYPES, isNotificationType } from './notification-types.js';
import type { PageQuery } from './pagination.js';
import { stringArray } from './params.js';

/** The fields of a notification that decide its group. */
export interface GroupableRow {
  readonly id: number;
  readonly type: string;
  readonly group_key: string | null;
}

const UNGROUPED = 'ungrouped-';
const UNGROUPED_KEY = /^ungrouped-(\d{1,15})$/;

/** Actors named per group (Mastodon's NotificationGroup::SAMPLE_ACCOUNTS_SIZE). */
export const SAMPLE_ACCOUNTS = 8;

/**
 * `grouped_types[]`: absent means every groupable type; otherwise only the listed groupable types group,
 * so a list of unknown values groups nothing (SPEC §12).
 */
export function readGroupedTypes(value: unknown): ReadonlySet<string> {
  const list = stringArray(value);
  if (list === undefined || list.length === 0) return GROUPABLE_TYPES;
  return new Set(list.filter((type) => isNotificationType(type) && GROUPABLE_TYPES.has(type)));
}

/** The key a client sees: the stored group key when the type may group on this request, else `ungrouped-<id>`. */
export function effectiveGroupKey(row: GroupableRow, groupedTypes: ReadonlySet<string>): string {
  return row.group_key !== null && groupedTypes.has(row.type) ? row.group_key : `${UNGROUPED}${row.id}`;
}

/** The notification id named by an `ungrouped-<id>` key, or undefined for a real group key. */
export function ungroupedId(groupKey: string): number | undefined {
  const match = UNGROUPED_KEY.exec(groupKey);
  return match ? Number(match[1]) : undefined;
}

export const isUngroupedKey = (groupKey: string): boolean => groupKey.startsWith(UNGROUPED);

/**
 * A group key from a path, or undefined when no stored key could equal it: a NUL never reaches the store
 * (PostgreSQL refuses it in text, and would answer an error rather than "no rows").
 */
export function readGroupKey(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && !value.includes('\u0000') ? value : undefined;
}

/** A walk through notifications in page order, one representative per group. */
export interface GroupWalk<R extends GroupableRow> {
  readonly representatives: readonly R[];
  /** Effective keys already represented, in walk order. */
  readonly keys: readonly string[];
}

export const startWalk = <R extends GroupableRow>(): GroupWalk<R> => ({ representatives: [], keys: [] });

/**
 * Continues a walk with the next rows in page order (newest first, or oldest first above `min_id`): the
 * first row of each group not yet seen becomes its representative, until `limit` groups are found.
 */
export function continueWalk<R extends GroupableRow>(
  walk: GroupWalk<R>,
  rows: readonly R[],
  limit: number,
  groupedTypes: ReadonlySet<string>,
): GroupWalk<R> {
  const representatives = [...walk.representatives];
  const keys = [...walk.keys];
  const seen = new Set(keys);
  for (const row of rows) {
    if (representatives.length >= limit) break;
    const key = effectiveGroupKey(row, groupedTypes);
    if (seen.has(key)) continue;
    seen.add(key);
    keys.push(key);
    representatives.push(row);
  }
  return { representatives, keys };
}

/** Real group keys already represented: the next query may skip their other notifications. */
export const skippableKeys = (walk: GroupWalk<GroupableRow>): string[] => walk.keys.filter((key) => !isUngroupedKey(key));

/**
 * How many rows to ask for next. A first slice a little over the missing groups finishes most pages in
 * one query (groups already represented are skipped by the query, so most rows start a group); slices
 * double after that, so a page of many interleaved groups still needs only a few queries.
 */
export const nextChunkSize = (missingGroups: number, slicesSoFar: number): number =>
  Math.min((missingGroups + 8) * 2 ** Math.min(slicesSoFar, 10), 1000);

/** Inclusive id range whose notifications a page's group counts and page fields describe. */
export interface GroupRange {
  readonly lower?: number;
  readonly upper?: number;
}

/**
 * SPEC §12: a full page spans its oldest to its newest representative; a short page reaches down to the
 * cursor (`min_id`, else `since_id`) or to the start. `newestFirst` is the page as returned.
 */
export function pageGroupRange(newestFirst: readonly GroupableRow[], full: boolean, page: PageQuery): GroupRange {
  if (newestFirst.length === 0) return {};
  const upper = newestFirst[0].id;
  if (full) return { lower: newestFirst[newestFirst.length - 1].id, upper };
  const cursor = page.minId ?? page.sinceId;
  return { lower: cursor === undefined ? undefined : cursor + 1, upper };
}

/** A group's totals up to the top of the range, as the store counted them. */
export interface GroupStatsRow {
  readonly group_key: string;
  readonly count: number;
  /** The group's smallest id from the range's lower bound, null when it has none there. */
  readonly min_id_in_range: number | null;
}

/** One of a group's newest notifications up to the top of the range (at most SAMPLE_ACCOUNTS per group). */
export interface GroupSampleRow {
  readonly group_key: string;
  readonly id: number;
  readonly from_account_id: string;
  readonly created_at: number;
}

export interface GroupSummary {
  readonly count: number;
  readonly mostRecentId: number;
  readonly latestAt: number;
  readonly minIdInRange: number;
  readonly sampleAccountIds: readonly string[];
}

/**
 * Joins each group's totals with its samples (newest first). A group with no sample left (its notifications
 * went between the queries) gets no summary, and its representative then stands alone.
 */
export function summarizeGroups(stats: readonly GroupStatsRow[], samples: readonly GroupSampleRow[]): Map<string, GroupSummary> {
  const byKey = new Map<string, GroupSampleRow[]>();
  for (const row of samples) {
    const list = byKey.get(row.group_key);
    if (list) list.push(row);
    else byKey.set(row.group_key, [row]);
  }
  const out = new Map<string, GroupSummary>();
  for (const stat of stats) {
    const newest = [...(byKey.get(stat.group_key) ?? [])].sort((a, b) => b.id - a.id);
    if (newest.length === 0) continue;
    const top = newest[0];
    out.set(stat.group_key, {
      count: Math.max(Number(stat.count), newest.length),
      mostRecentId: top.id,
      latestAt: Number(top.created_at),
      minIdInRange: stat.min_id_in_range === null ? top.id : Number(stat.min_id_in_range),
      sampleAccountIds: newest.slice(0, SAMPLE_ACCOUNTS).map((r) => r.from_account_id),
    });
  }
  return out;
}

/** What a NotificationGroup says, before serialization. */
export interface GroupView<R> {
  readonly groupKey: string;
  readonly representative: R;
  readonly count: number;
  readonly mostRecentId: number;
  readonly sampleAccountIds: readonly string[];
  /** Only on the index (SPEC §6). */
  readonly page?: { readonly minId: number; readonly maxId: number; readonly latestAt: number };
}

type ViewRow = GroupableRow & { readonly from_account_id: string; readonly created_at: number };

/**
 * Builds each group's view from its representative and, for real groups, its summary. A single
 * notification (or a group whose summary vanished meanwhile) stands for itself.
 */
export function toGroupViews<R extends ViewRow>(
  representatives: readonly R[],
  summaries: ReadonlyMap<string, GroupSummary>,
  groupedTypes: ReadonlySet<string>,
  withPageFields: boolean,
): GroupView<R>[] {
  return representatives.map((row) => {
    const groupKey = effectiveGroupKey(row, groupedTypes);
    const summary = isUngroupedKey(groupKey) ? undefined : summaries.get(groupKey);
    const single = {
      count: 1,
      mostRecentId: row.id,
      latestAt: Number(row.created_at),
      minIdInRange: row.id,
      sampleAccountIds: [row.from_account_id],
    };
    const s = summary ?? single;
    const view: GroupView<R> = {
      groupKey,
      representative: row,
      count: s.count,
      mostRecentId: s.mostRecentId,
      sampleAccountIds: s.sampleAccountIds,
    };
    return withPageFields ? { ...view, page: { minId: s.minIdInRange, maxId: s.mostRecentId, latestAt: s.latestAt } } : view;
  });
}
