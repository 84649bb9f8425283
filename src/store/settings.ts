// Small key/value settings that every process of a deployment must share (the VAPID key pair).
import type { Db } from './schema.js';

export async function readSetting(db: Db, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

/** Stores a value unless one is there already, and returns whichever won: two processes starting at once agree. */
export async function initSetting(db: Db, key: string, value: string): Promise<string> {
  await db
    .insertInto('settings')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return (await readSetting(db, key))!;
}
