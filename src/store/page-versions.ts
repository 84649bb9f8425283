// The versions a recipient's listing page is rendered at (migration 0005_page_versions).
import { expressionBuilder, type Expression } from 'kysely';
import { executeCached } from './open-store.js';
import type { Database, Db } from './schema.js';

/** The two version columns, as read by readPageVersion or alongside a token (store/tokens.ts). */
export type PageVersionColumns = { page_notifications: number | string | null; page_accounts: number | string | null };

/**
 * The selections that read a recipient's version (its notifications and their statuses) and the shared one
 * (any account), for a statement that names the recipient by `accountId`: a bound value or a column.
 */
export function pageVersionSelections(accountId: Expression<string | null> | string) {
  const eb = expressionBuilder<Database, never>();
  return [
    eb.selectFrom('notification_versions').select('version').where('account_id', '=', accountId).as('page_notifications'),
    eb.selectFrom('accounts_version').select('version').where('id', '=', 1).as('page_accounts'),
  ] as const;
}

/** One string that changes whenever the recipient's page could. */
export const formatPageVersion = (row: PageVersionColumns): string => `${row.page_notifications ?? 0}.${row.page_accounts ?? 0}`;

/**
 * The recipient's page version: its own and the shared one, joined. Read before the page, so a write landing
 * in between can only make a kept page look older than it is, never newer.
 */
export async function readPageVersion(db: Db, accountId: string): Promise<string> {
  const [row] = await executeCached<PageVersionColumns>(db, 'readPageVersion', [accountId], (param) =>
    db.selectNoFrom(pageVersionSelections(param(0))),
  );
  return formatPageVersion(row);
}
