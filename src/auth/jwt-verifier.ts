// RFC 9068 JWT access tokens (SPEC §13), verified by jose against the host's key set: hand-made JWT checks are
// where `alg: none` and key-confusion bugs come from (DESIGN "Stack").
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { AuthUnavailable, inactive, toActiveToken, type TokenVerdict } from './token-claims.js';

/** Asymmetric algorithms only: never `none`, never HMAC (a public key used as an HMAC secret is a forgery). */
export const JWT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
/** SPEC §13: `exp` and `nbf` are honoured with 60 s leeway. */
export const JWT_LEEWAY_SECONDS = 60;
/** An unknown `kid` fetches the key set again at most this often. */
const REFETCH_COOLDOWN_MS = 60_000;

export interface JwtVerifier {
  verify(token: string): Promise<TokenVerdict>;
  /** Fetches the key set now (at start); failures are left to the first verification. */
  preload(): Promise<void>;
}

export interface JwtSettings {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string | undefined;
  readonly accountClaim: string;
}

/** A compact JWS: three base64url parts (the last may be empty, as in `alg: none`). */
export const looksLikeJws = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);

export function createJwtVerifier(settings: JwtSettings, now: () => number): JwtVerifier {
  // Kept until an unknown `kid` asks for a fresh set (SPEC §13): a key in hand keeps working while the JWKS
  // server is down, instead of every JWT failing once a cache age runs out.
  const keys = createRemoteJWKSet(new URL(settings.jwksUrl), {
    cooldownDuration: REFETCH_COOLDOWN_MS,
    cacheMaxAge: Infinity,
    timeoutDuration: 2_000,
  });
  return {
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: settings.issuer,
          audience: settings.audience,
          algorithms: JWT_ALGORITHMS,
          clockTolerance: JWT_LEEWAY_SECONDS,
          requiredClaims: ['exp'],
          currentDate: new Date(now()),
        });
        return toActiveToken(payload, settings.accountClaim);
      } catch (error) {
        if (isKeySetUnavailable(error)) {
          throw new AuthUnavailable('the JWKS of HERALD_AUTH_JWKS_URL cannot be fetched', { cause: error });
        }
        return inactive(error instanceof errors.JOSEError ? error.code : 'malformed token');
      }
    },
    async preload() {
      await keys.reload();
    },
  };
}

/**
 * The key set could not be had (timeout, network, a non-200 answer, an answer that is no key set), as opposed
 * to a bad token: jose gives every token fault a specific code, and a failed fetch a generic one or none.
 */
function isKeySetUnavailable(error: unknown): boolean {
  if (!(error instanceof errors.JOSEError)) return true;
  return error.code === 'ERR_JWKS_TIMEOUT' || error.code === 'ERR_JWKS_INVALID' || error.code === 'ERR_JOSE_GENERIC';
}
