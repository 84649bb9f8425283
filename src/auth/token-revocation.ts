// Revocation through Herald (SPEC §13): final, and it reaches everything the token holds. Its push
// subscription goes in the same transaction; its streams and every process's cached answers go when the
// signal crosses the bus.
import { validationFailed } from '../domain/errors.js';
import { isObject, readId } from '../domain/records.js';
import type { NotificationBus } from '../services/notification-bus.js';
import type { Database } from '../store/schema.js';
import { hashToken, recordRevokedHash, revokeTokens, setTokenCutoff, type TokenSelector } from '../store/tokens.js';
import type { Kysely } from 'kysely';

const SHA256_HEX = /^[0-9a-f]{64}$/i;
/** Longer than any bearer a client sends; the bound keeps a hostile body from being hashed at length. */
export const MAX_TOKEN_LENGTH = 4096;

/** The token an admin request names by `access_token` or `token_sha256` (exactly one), as its hash. */
export function readTokenHash(body: Record<string, unknown>): string | undefined {
  const { access_token: plain, token_sha256: hex } = body;
  if (plain !== undefined && hex !== undefined) throw validationFailed('give access_token or token_sha256, not both');
  if (plain !== undefined) {
    if (typeof plain !== 'string' || plain === '' || plain.length > MAX_TOKEN_LENGTH || /\s/.test(plain)) {
      throw validationFailed(`access_token must be a token of 1 to ${MAX_TOKEN_LENGTH} characters without spaces`);
    }
    return hashToken(plain);
  }
  if (hex !== undefined) {
    if (typeof hex !== 'string' || !SHA256_HEX.test(hex)) throw validationFailed('token_sha256 must be 64 hexadecimal characters');
    return hex.toLowerCase();
  }
  return undefined;
}

/** `POST /api/admin/v1/tokens/revoke`'s body: one of access_token, token_sha256, id or account_id. */
export function readRevocation(body: unknown): TokenSelector {
  if (!isObject(body)) throw validationFailed('body must be a JSON object');
  const given = ['access_token', 'token_sha256', 'id', 'account_id'].filter((key) => body[key] !== undefined);
  if (given.length !== 1) throw validationFailed('give exactly one of access_token, token_sha256, id or account_id');
  const hash = readTokenHash(body);
  if (hash !== undefined) return { hash };
  if (body.id !== undefined) {
    const id = typeof body.id === 'number' ? String(body.id) : body.id;
    if (typeof id !== 'string' || !/^\d{1,15}$/.test(id)) throw validationFailed('id must be a token id');
    return { id: Number(id) };
  }
  const accountId = readId(body.account_id);
  if (accountId === undefined) throw validationFailed('account_id must be an account id');
  return { accountId };
}

export interface RevocationDeps {
  readonly db: Kysely<Database>;
  readonly bus: NotificationBus;
  readonly now: () => number;
}

/** Revokes what the selector names; returns how many live tokens were revoked. */
export async function revokeHostTokens(deps: RevocationDeps, selector: TokenSelector): Promise<number> {
  const now = deps.now();
  const ids = await deps.db.transaction().execute(async (trx) => {
    const revoked = await revokeTokens(trx, selector, now);
    // A token not seen yet stays refused when it arrives; an account's future tokens issued before now too.
    if ('hash' in selector && revoked.length === 0) await recordRevokedHash(trx, selector.hash, now);
    if ('accountId' in selector) await setTokenCutoff(trx, selector.accountId, now);
    return revoked;
  });
  if (ids.length > 0) deps.bus.publishSignal({ kind: 'tokens_revoked', tokenIds: ids });
  return ids.length;
}
