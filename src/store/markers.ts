// Read positions per timeline (SPEC §5), updated with an optimistic version check.
import type { Selectable } from 'kysely';
import type { Db, MarkersTable } from './schema.js';

export type MarkerRow = Selectable<MarkersTable>;

export async function findMarker(db: Db, accountId: string, timeline: string): Promise<MarkerRow | undefined> {
  return db.selectFrom('markers').selectAll().where('account_id', '=', accountId).where('timeline', '=', timeline).executeTakeFirst();
}

export async function findMarkers(db: Db, accountId: string, timelines: readonly string[]): Promise<MarkerRow[]> {
  if (timelines.length === 0) return [];
  return db.selectFrom('markers').selectAll().where('account_id', '=', accountId).where('timeline', 'in', timelines).execute();
}

/**
 * Writes a marker if nobody changed it since `current` was read; undefined when the race was lost. Posting the
 * position it already holds changes nothing, so version and updated_at stay (SPEC §12: one version per change,
 * as Mastodon's optimistic lock, which does not move for an unchanged record).
 */
export async function saveMarker(
  db: Db,
  current: MarkerRow | undefined,
  next: { accountId: string; timeline: string; lastReadId: string; now: number },
): Promise<MarkerRow | undefined> {
  if (current === undefined) {
    const row = { account_id: next.accountId, timeline: next.timeline, last_read_id: next.lastReadId, version: 0, updated_at: next.now };
    const inserted = await db
      .insertInto('markers')
      .values(row)
      .onConflict((oc) => oc.columns(['account_id', 'timeline']).doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0 ? row : undefined;
  }
  if (current.last_read_id === next.lastReadId) return current;
  const row = { ...current, last_read_id: next.lastReadId, version: current.version + 1, updated_at: next.now };
  const updated = await db
    .updateTable('markers')
    .set({ last_read_id: row.last_read_id, version: row.version, updated_at: row.updated_at })
    .where('account_id', '=', next.accountId)
    .where('timeline', '=', next.timeline)
    .where('version', '=', current.version)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0 ? row : undefined;
}
