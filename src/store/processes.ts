// Every Herald process beats here (SPEC §16), so the console and `herald status` can list who is running.
import type { Db } from './schema.js';

export interface ProcessBeat {
  readonly id: string;
  readonly role: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
}

export async function recordBeat(
  db: Db,
  process: ProcessBeat,
  now: number,
  activity: { ingestPerMinute: number; openStreams: number },
): Promise<void> {
  const live = { last_beat: now, ingest_per_minute: activity.ingestPerMinute, open_streams: activity.openStreams };
  await db
    .insertInto('processes')
    .values({ id: process.id, role: process.role, host: process.host, pid: process.pid, started_at: process.startedAt, ...live })
    .onConflict((oc) => oc.column('id').doUpdateSet(live))
    .execute();
}

export async function removeProcess(db: Db, id: string): Promise<void> {
  await db.deleteFrom('processes').where('id', '=', id).execute();
}

/** Processes that beat since `since`, newest start first. */
export async function listProcesses(db: Db, since: number) {
  return db.selectFrom('processes').selectAll().where('last_beat', '>=', since).orderBy('started_at', 'desc').execute();
}

/** Rows of processes gone quiet before `before` (killed without a goodbye). */
export async function pruneProcesses(db: Db, before: number): Promise<void> {
  await db.deleteFrom('processes').where('last_beat', '<', before).execute();
}
