// The client's side of notification filtering (SPEC §7): reading and changing the policy, and handling
// the requests that gather filtered notifications per actor. Ingest applies the policy; this manages it.
import { notFound } from '../domain/errors.js';
import type { NotificationPolicy } from '../domain/notification-policy.js';
import type { PageQuery } from '../domain/pagination.js';
import { parseRecordId } from '../domain/params.js';
import { findStatuses, type StatusRow } from '../store/accounts.js';
import {
  acceptActors,
  dismissActors,
  findPolicy,
  findRequestActors,
  findVisibleRequest,
  listRequests,
  savePolicy,
  summarizeFiltered,
  type FilterSummary,
  type RequestRow,
} from '../store/filtering.js';
import type { NotificationBus } from './notification-bus.js';
import type { Db } from '../store/schema.js';

export interface PolicyView {
  readonly policy: NotificationPolicy;
  readonly summary: FilterSummary;
}

export interface RequestPage {
  readonly rows: readonly RequestRow[];
  readonly statuses: ReadonlyMap<string, StatusRow>;
}

export async function readPolicy(db: Db, accountId: string): Promise<PolicyView> {
  const [policy, summary] = await Promise.all([findPolicy(db, accountId), summarizeFiltered(db, accountId)]);
  return { policy, summary };
}

/** Applies a pure update to the stored policy; an update that throws leaves the policy as it was. */
export async function changePolicy(
  db: Db,
  accountId: string,
  update: (current: NotificationPolicy) => NotificationPolicy,
  now: number,
): Promise<PolicyView> {
  await db.transaction().execute(async (trx) => {
    const next = update(await findPolicy(trx, accountId));
    await savePolicy(trx, accountId, next, now);
  });
  return readPolicy(db, accountId);
}

export async function listRequestPage(db: Db, accountId: string, page: PageQuery): Promise<RequestPage> {
  const rows = await listRequests(db, accountId, page);
  return { rows, statuses: await findStatuses(db, rows.flatMap((r) => (r.last_status_id ? [r.last_status_id] : []))) };
}

export async function showRequest(db: Db, accountId: string, rawId: unknown): Promise<RequestPage> {
  const id = parseRecordId(rawId);
  const row = id === undefined ? undefined : await findVisibleRequest(db, accountId, id);
  if (!row) throw notFound();
  return { rows: [row], statuses: await findStatuses(db, row.last_status_id ? [row.last_status_id] : []) };
}

/** Request ids from a path, `id[]` or a lone `id` (Mastodon reads `Array(params[:id])`); bad ones name nothing. */
export function readRequestIds(value: unknown): number[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  const ids = list.flatMap((v) => parseRecordId(typeof v === 'number' ? String(v) : v) ?? []);
  return [...new Set(ids)].slice(0, 1000);
}

/**
 * Accepts requests of the caller: `strict` (one request by path) answers 404 for an id that is not the
 * caller's; the bulk form ignores such ids, as Mastodon does.
 */
export async function acceptRequests(
  deps: { db: Db; bus: NotificationBus; now: () => number },
  accountId: string,
  ids: readonly number[],
  strict: boolean,
): Promise<void> {
  const accepted = await deps.db.transaction().execute(async (trx) => {
    const actors = await findRequestActors(trx, accountId, ids);
    if (strict && actors.length === 0) throw notFound();
    await acceptActors(trx, accountId, actors, deps.now());
    return actors.length;
  });
  // SPEC §9: the recipient's streams hear that unfiltering is done (Mastodon's web app reloads its list).
  if (accepted > 0) deps.bus.publishSignal({ kind: 'notifications_merged', accountId });
}

/** Dismisses requests of the caller with their filtered notifications; `strict` as for accepting. */
export async function dismissRequests(db: Db, accountId: string, ids: readonly number[], strict: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const actors = await findRequestActors(trx, accountId, ids);
    if (strict && actors.length === 0) throw notFound();
    await dismissActors(trx, accountId, actors);
  });
}
