// Signed tokens for the Unsubscribe-URL header (SPEC §8.6, §12): whoever holds the link may remove
// that one subscription, for 48 hours. The token names the subscription and an expiry, and its HMAC
// also covers the endpoint, so a link sent to a push service stops working once the token's
// subscription is replaced by one with another endpoint.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** SPEC §8.6: the link lives as long as the push that carries it may wait at the push service. */
export const UNSUBSCRIBE_TOKEN_LIFETIME_MS = 48 * 60 * 60 * 1000;

export interface UnsubscribeClaims {
  readonly subscriptionId: number;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export interface UnsubscribeTokens {
  sign(subscription: { id: number; endpoint: string }, nowMs: number): string;
  /** The claims when the token is well formed and unexpired; the signature is checked by `verify`. */
  read(token: string, nowMs: number): UnsubscribeClaims | null;
  /** True when `token` was signed by us for this very subscription. */
  verify(token: string, subscription: { id: number; endpoint: string }): boolean;
}

/** Subscriptions whose last token is kept; a full cache is emptied. */
const SIGNED_CACHE_SIZE = 10_000;

const TOKEN = /^(\d{1,15})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

export function createUnsubscribeTokens(key: Buffer): UnsubscribeTokens {
  const mac = (id: number, expiresAt: number, endpoint: string): Buffer =>
    createHmac('sha256', key).update(`${id}.${expiresAt}.${endpoint}`).digest();
  // Every push carries a token, and one subscription's pushes within a second carry the same one: the last
  // token per subscription is kept rather than computed again (the HMAC was ~3% of the main thread at the
  // delivery benchmark's peak, `tsx bench/only.ts delivery` with --cpu-prof).
  const signed = new Map<number, { expiresAt: number; endpoint: string; token: string }>();
  return {
    sign(subscription, nowMs) {
      const expiresAt = Math.floor((nowMs + UNSUBSCRIBE_TOKEN_LIFETIME_MS) / 1000);
      const last = signed.get(subscription.id);
      if (last && last.expiresAt === expiresAt && last.endpoint === subscription.endpoint) return last.token;
      const token = `${subscription.id}.${expiresAt}.${mac(subscription.id, expiresAt, subscription.endpoint).toString('base64url')}`;
      if (signed.size >= SIGNED_CACHE_SIZE) signed.clear();
      signed.set(subscription.id, { expiresAt, endpoint: subscription.endpoint, token });
      return token;
    },
    read(token, nowMs) {
      const match = TOKEN.exec(token);
      if (!match) return null;
      const claims = { subscriptionId: Number(match[1]), expiresAt: Number(match[2]) };
      return claims.expiresAt * 1000 > nowMs ? claims : null;
    },
    verify(token, subscription) {
      const match = TOKEN.exec(token);
      if (!match || Number(match[1]) !== subscription.id) return false;
      const expected = mac(subscription.id, Number(match[2]), subscription.endpoint);
      const given = Buffer.from(match[3], 'base64url');
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
