// Rate-limit counters shared by every web process (SPEC §1.7, §16): one row per bucket and window.
import type { Db } from './schema.js';

export interface WindowCount {
  readonly key: string;
  readonly windowEnd: number;
  readonly count: number;
}

/** Adds each delta to its window and returns the windows' totals across every process. */
export async function addToWindows(db: Db, deltas: readonly WindowCount[]): Promise<WindowCount[]> {
  if (deltas.length === 0) return [];
  const rows = await db
    .insertInto('rate_limit_windows')
    .values(deltas.map((d) => ({ key: d.key, window_end: d.windowEnd, count: d.count })))
    .onConflict((oc) =>
      oc.columns(['key', 'window_end']).doUpdateSet((eb) => ({ count: eb('rate_limit_windows.count', '+', eb.ref('excluded.count')) })),
    )
    .returning(['key', 'window_end', 'count'])
    .execute();
  return rows.map((r) => ({ key: r.key, windowEnd: Number(r.window_end), count: Number(r.count) }));
}

export async function pruneWindows(db: Db, before: number): Promise<void> {
  await db.deleteFrom('rate_limit_windows').where('window_end', '<', before).execute();
}
