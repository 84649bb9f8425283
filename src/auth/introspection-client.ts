// RFC 7662 token introspection (SPEC §13): one POST per question, HTTP Basic client authentication, 2 s at
// most. The URL is the operator's own setting, so private addresses are allowed for it.
import { Agent, request } from 'undici';
import { isObject } from '../domain/records.js';
import { AuthUnavailable, inactive, toActiveToken, type TokenVerdict } from './token-claims.js';

export const INTROSPECTION_TIMEOUT_MS = 2_000;

export interface IntrospectionSettings {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly accountClaim: string;
}

export interface IntrospectionClient {
  introspect(token: string): Promise<TokenVerdict>;
  close(): Promise<void>;
}

export function createIntrospectionClient(settings: IntrospectionSettings, now: () => number): IntrospectionClient {
  // RFC 7662 §2.1 by way of RFC 6749 §2.3.1: id and secret are form-encoded before the Basic encoding.
  const basic = Buffer.from(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`).toString('base64');
  const dispatcher = new Agent({ connectTimeout: INTROSPECTION_TIMEOUT_MS, keepAliveTimeout: 30_000 });
  return {
    async introspect(token) {
      let status: number;
      let text: string;
      try {
        const response = await request(settings.url, {
          method: 'POST',
          dispatcher,
          headers: {
            authorization: `Basic ${basic}`,
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
          },
          body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
          signal: AbortSignal.timeout(INTROSPECTION_TIMEOUT_MS),
          headersTimeout: INTROSPECTION_TIMEOUT_MS,
          bodyTimeout: INTROSPECTION_TIMEOUT_MS,
        });
        status = response.statusCode;
        text = await response.body.text();
      } catch (error) {
        throw new AuthUnavailable(`introspection request failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      return judgeIntrospection(status, text, settings.accountClaim, now());
    },
    close: () => dispatcher.close(),
  };
}

/**
 * OAuth errors about the token itself (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1). Any other 4xx, such as
 * `invalid_client` after a rotated secret or a 429, is Herald's problem, not the token's: it must not log
 * users out or delete their push subscriptions, so it counts as unavailable.
 */
const TOKEN_ERRORS = new Set(['invalid_token', 'unsupported_token_type', 'invalid_grant', 'invalid_request']);

/**
 * SPEC §13's reading of an answer: `active: true` (and an `exp`, if any, in the future) is valid; `active:
 * false` or a 4xx OAuth error about the token is invalid; a 5xx or anything that is not RFC 7662 JSON means
 * the endpoint cannot tell. Pure, for table tests.
 */
export function judgeIntrospection(status: number, body: string, accountClaim: string, now: number): TokenVerdict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (status >= 400 && status < 500 && isObject(parsed) && typeof parsed.error === 'string' && TOKEN_ERRORS.has(parsed.error)) {
    return inactive(`introspection refused the token: ${parsed.error}`);
  }
  if (status < 200 || status >= 300 || !isObject(parsed) || typeof parsed.active !== 'boolean') {
    throw new AuthUnavailable(`introspection answered ${status} without an RFC 7662 answer`);
  }
  if (!parsed.active) return inactive('introspection: not active');
  const claims = toActiveToken(parsed, accountClaim);
  if (claims.expiresAt !== null && claims.expiresAt <= now) return inactive('introspection: expired');
  return claims;
}
