// What a token source says about a bearer (SPEC §13), whatever the source: active with an account and
// scopes, or not active. A source that cannot answer throws AuthUnavailable instead.
import { HeraldError } from '../domain/errors.js';

export interface ActiveToken {
  readonly active: true;
  /** The host's account id from HERALD_AUTH_ACCOUNT_CLAIM; null for a token without one (an app token). */
  readonly accountId: string | null;
  /** Space-separated, as stored. */
  readonly scopes: string;
  /** Epoch ms, when the token says. */
  readonly expiresAt: number | null;
  readonly issuedAt: number | null;
}

export type TokenVerdict = ActiveToken | { readonly active: false; readonly reason: string };

/**
 * The source could not tell (timeout, network error, 5xx, an answer that is not RFC 7662 JSON): 503, never
 * access. The client sees SPEC §13's text; what went wrong stays in `detail` for the log.
 */
export class AuthUnavailable extends HeraldError {
  constructor(
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_AUTH_UNAVAILABLE', 'Authentication service unavailable');
    this.name = 'AuthUnavailable';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export const inactive = (reason: string): TokenVerdict => ({ active: false, reason });

/** The claims both sources share: the account claim, the `scope` string, `exp` and `iat` (seconds). */
export function toActiveToken(claims: Record<string, unknown>, accountClaim: string): ActiveToken {
  const account = claims[accountClaim];
  const scope = claims.scope;
  return {
    active: true,
    accountId: typeof account === 'string' && account !== '' ? account : typeof account === 'number' ? String(account) : null,
    scopes: typeof scope === 'string' ? scope.split(/\s+/).filter(Boolean).join(' ') : '',
    expiresAt: secondsToMs(claims.exp),
    issuedAt: secondsToMs(claims.iat),
  };
}

const secondsToMs = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? Math.round(value * 1000) : null;
