// The versions a recipient's listing page is rendered at (migration 0005_page_versions).
import { executeCached } from './open-store.js';
import type { Db } from './schema.js';

type VersionRow = { notifications: number | string | null; accounts: number | string | null };

/**
 * One string that changes whenever the recipient's page could: its notifications or their statuses
 * (its own version), or any account (the shared one). Read before the page, so a write landing in between
 * can only make a kept page look older than it is, never newer.
 */
export async function readPageVersion(db: Db, accountId: string): Promise<string> {
  const [row] = await executeCached<VersionRow>(db, 'readPageVersion', [accountId], (param) =>
    db.selectNoFrom((eb) => [
      eb.selectFrom('notification_versions').select('version').where('account_id', '=', param(0)).as('notifications'),
      eb.selectFrom('accounts_version').select('version').where('id', '=', 1).as('accounts'),
    ]),
  );
  return `${row.notifications ?? 0}.${row.accounts ?? 0}`;
}
