// Access tokens, stored only as SHA-256 hashes (SPEC §1.1).
import type { Selectable } from 'kysely';
import { createHash } from 'node:crypto';
import { executeCached } from './open-store.js';
import type { Db, TokensTable } from './schema.js';

export type TokenRow = Selectable<TokensTable>;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function insertToken(db: Db, row: Omit<TokenRow, 'id' | 'revoked_at'>): Promise<TokenRow> {
  return db
    .insertInto('tokens')
    .values({ ...row, revoked_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Every authenticated request's first query: compiled once (executeCached). */
export async function findActiveToken(db: Db, plainToken: string): Promise<TokenRow | undefined> {
  const [row] = await executeCached<TokenRow>(db, 'findActiveToken', [hashToken(plainToken)], (param) =>
    db.selectFrom('tokens').selectAll().where('token_hash', '=', param(0)).where('revoked_at', 'is', null),
  );
  return row;
}

/** Revokes a token and removes its push subscription with it; false when there was no such live token. */
export async function revokeToken(db: Db, id: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable('tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  const subscriptions = db.selectFrom('push_subscriptions').select('id').where('token_id', '=', id);
  await db.deleteFrom('deliveries').where('subscription_id', 'in', subscriptions).execute();
  await db.deleteFrom('push_subscriptions').where('token_id', '=', id).execute();
  return Number(result.numUpdatedRows) > 0;
}
