// SPEC §13: a push subscription made with an introspected token is re-checked before a delivery when its
// last confirmation is older than HERALD_AUTH_RECHECK_SECONDS. JWTs are not: their expiry alone does not end
// a subscription (the app refreshes its token; the host revokes through the admin API).
import type { Db } from '../store/schema.js';
import { findTokenById, markTokenConfirmed } from '../store/tokens.js';
import type { TokenResolver } from './token-resolver.js';

/** ok: send; inactive: the token is dead, remove the subscription; unavailable: try again later. */
export type TokenRecheck = 'ok' | 'inactive' | 'unavailable';

export type PushTokenRecheck = (subscription: { token_id: number }, plainToken: string) => Promise<TokenRecheck>;

/** Undefined when introspection is off: nothing to re-check, and no query on the delivery path. */
export function createPushTokenRecheck(deps: {
  db: Db;
  now: () => number;
  tokens: TokenResolver;
  recheckSeconds: number;
}): PushTokenRecheck | undefined {
  const introspect = deps.tokens.introspect;
  if (!introspect) return undefined;
  const recheckMs = deps.recheckSeconds * 1000;
  return async (subscription, plainToken) => {
    const token = await findTokenById(deps.db, subscription.token_id);
    if (!token || token.revoked_at !== null) return 'inactive';
    if (token.source !== 'introspection') return 'ok';
    if (token.confirmed_at !== null && deps.now() - Number(token.confirmed_at) < recheckMs) return 'ok';
    let verdict;
    try {
      verdict = await introspect(plainToken);
    } catch {
      return 'unavailable';
    }
    if (!verdict.active) return 'inactive';
    await markTokenConfirmed(deps.db, token.id, deps.now());
    return 'ok';
  };
}
