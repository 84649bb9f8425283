// Access tokens, stored only as SHA-256 hashes (SPEC §1.1): Herald's own, imported ones, and a local row for
// every external token seen (SPEC §13), so subscriptions, streams and rate limits bind to one id whatever
// the source.
import type { Selectable } from 'kysely';
import { createHash } from 'node:crypto';
import { executeCached } from './open-store.js';
import { formatPageVersion, pageVersionSelections, type PageVersionColumns } from './page-versions.js';
import { removeSubscriptions } from './push-subscriptions.js';
import type { Db, TokenSource, TokensTable } from './schema.js';

export type TokenRow = Selectable<TokensTable>;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export const isExternalSource = (source: TokenSource): boolean => source === 'jwt' || source === 'introspection';

type NewToken = Pick<TokenRow, 'token_hash' | 'account_id' | 'scopes' | 'client_name' | 'created_at'> & Partial<Pick<TokenRow, 'source'>>;

export async function insertToken(db: Db, row: NewToken): Promise<TokenRow> {
  return db
    .insertInto('tokens')
    .values({ source: 'own', ...row, revoked_at: null, expires_at: null, confirmed_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Every authenticated request's first query, revoked rows included: compiled once (executeCached). */
export async function findTokenByHash(db: Db, hash: string): Promise<TokenRow | undefined> {
  const [row] = await executeCached<TokenRow>(db, 'findTokenByHash', [hash], (param) =>
    db.selectFrom('tokens').selectAll().where('token_hash', '=', param(0)),
  );
  return row;
}

/**
 * findTokenByHash with the token's account's listing-page version (page-versions.ts) read in the same
 * statement: a page served from the page cache then costs one read, one round trip on PostgreSQL.
 */
export async function findTokenByHashWithPageVersion(db: Db, hash: string): Promise<(TokenRow & { pageVersion: string }) | undefined> {
  const [row] = await executeCached<TokenRow & PageVersionColumns>(db, 'findTokenByHashWithPageVersion', [hash], (param) =>
    db
      .selectFrom('tokens')
      .selectAll()
      .select((eb) => pageVersionSelections(eb.ref('tokens.account_id')))
      .where('token_hash', '=', param(0)),
  );
  if (!row) return undefined;
  const { page_notifications, page_accounts, ...token } = row;
  return { ...token, pageVersion: formatPageVersion({ page_notifications, page_accounts }) };
}

export async function findTokenById(db: Db, id: number): Promise<TokenRow | undefined> {
  return db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Registers a host token (SPEC §13 "imported"): a new row, or the live row of the same token with its account
 * and scopes updated. Undefined when the token was revoked here: revocation through Herald is final.
 */
export async function importToken(
  db: Db,
  row: Pick<TokenRow, 'token_hash' | 'account_id' | 'scopes' | 'client_name' | 'created_at'>,
): Promise<TokenRow | undefined> {
  return db
    .insertInto('tokens')
    .values({ ...row, source: 'imported', revoked_at: null, expires_at: null, confirmed_at: null })
    .onConflict((oc) =>
      oc
        .column('token_hash')
        .doUpdateSet((eb) => ({
          account_id: eb.ref('excluded.account_id'),
          scopes: eb.ref('excluded.scopes'),
          client_name: eb.ref('excluded.client_name'),
          source: 'imported',
        }))
        .where('tokens.revoked_at', 'is', null),
    )
    .returningAll()
    .executeTakeFirst();
}

/**
 * The local row of an external token its source has just confirmed, created on first sight; undefined when
 * the token was revoked here (or is an own/imported token, which never reaches its source).
 */
export async function confirmExternalToken(
  db: Db,
  row: Pick<TokenRow, 'token_hash' | 'account_id' | 'scopes' | 'source' | 'expires_at'> & { now: number },
): Promise<TokenRow | undefined> {
  const { now, ...values } = row;
  return db
    .insertInto('tokens')
    .values({ ...values, client_name: null, created_at: now, confirmed_at: now, revoked_at: null })
    .onConflict((oc) =>
      oc
        .column('token_hash')
        .doUpdateSet((eb) => ({
          account_id: eb.ref('excluded.account_id'),
          scopes: eb.ref('excluded.scopes'),
          expires_at: eb.ref('excluded.expires_at'),
          confirmed_at: eb.ref('excluded.confirmed_at'),
          source: eb.ref('excluded.source'),
        }))
        .where('tokens.revoked_at', 'is', null)
        .where('tokens.source', 'in', ['jwt', 'introspection']),
    )
    .returningAll()
    .executeTakeFirst();
}

/** The ids among `ids` whose tokens are still live. */
export async function findLiveTokenIds(db: Db, ids: readonly number[]): Promise<Set<number>> {
  const live = new Set<number>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom('tokens').select('id').where('id', 'in', ids.slice(i, i + 500)).where('revoked_at', 'is', null).execute();
    for (const row of rows) live.add(Number(row.id));
  }
  return live;
}

export async function markTokenConfirmed(db: Db, id: number, now: number): Promise<void> {
  await db.updateTable('tokens').set({ confirmed_at: now }).where('id', '=', id).execute();
}

/** The account's cut-off from "log out everywhere", if any (epoch ms). */
export async function findTokenCutoff(db: Db, accountId: string): Promise<number | undefined> {
  const row = await db.selectFrom('token_cutoffs').select('revoked_before').where('account_id', '=', accountId).executeTakeFirst();
  return row === undefined ? undefined : Number(row.revoked_before);
}

export async function setTokenCutoff(db: Db, accountId: string, at: number): Promise<void> {
  await db
    .insertInto('token_cutoffs')
    .values({ account_id: accountId, revoked_before: at })
    .onConflict((oc) => oc.column('account_id').doUpdateSet({ revoked_before: at }))
    .execute();
}

/** What to revoke (SPEC §13 `POST /api/admin/v1/tokens/revoke`). */
export type TokenSelector =
  | { readonly hash: string }
  | { readonly id: number }
  | { readonly accountId: string };

/**
 * Revokes the live tokens the selector names, and removes their push subscriptions and pending deliveries.
 * Run it in a transaction. Returns the ids revoked.
 */
export async function revokeTokens(db: Db, selector: TokenSelector, now: number): Promise<number[]> {
  let query = db.updateTable('tokens').set({ revoked_at: now }).where('revoked_at', 'is', null);
  if ('hash' in selector) query = query.where('token_hash', '=', selector.hash);
  else if ('id' in selector) query = query.where('id', '=', selector.id);
  else query = query.where('account_id', '=', selector.accountId);
  const ids = (await query.returning('id').execute()).map((row) => Number(row.id));
  await removeSubscriptions(db, { tokenIds: ids }, { reason: 'token_revoked', now });
  return ids;
}

/**
 * Keeps a revoked row for a token Herald has not seen yet, so that it stays refused when it first arrives
 * (revocation is final, SPEC §13). Nothing happens when the hash already has a row.
 */
export async function recordRevokedHash(db: Db, hash: string, now: number): Promise<void> {
  await db
    .insertInto('tokens')
    .values({ token_hash: hash, account_id: null, scopes: '', client_name: null, created_at: now, revoked_at: now, source: 'imported', expires_at: null, confirmed_at: null })
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .execute();
}

/**
 * SPEC §13: rows of external tokens that hold no push subscription and have expired (or, without an expiry,
 * were not confirmed for `unseenMs`) go, so short-lived JWTs do not grow the table. A revoked row goes only
 * once its token has expired: until then it is what keeps the token refused.
 */
export async function pruneExternalTokens(db: Db, now: number, unseenMs: number): Promise<number> {
  const result = await db
    .deleteFrom('tokens')
    .where('source', 'in', ['jwt', 'introspection'])
    .where((eb) =>
      eb.or([
        eb('expires_at', '<', now),
        eb.and([eb('expires_at', 'is', null), eb('revoked_at', 'is', null), eb('confirmed_at', '<', now - unseenMs)]),
      ]),
    )
    .where('id', 'not in', db.selectFrom('push_subscriptions').select('token_id'))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
