/**
 * VAPID (RFC 8292): the ES256 JWT that identifies us to push services, the two header forms that
 * carry it, and the subject check of SPEC §8.3.
 *
 * Why a signer object: `web-push` parses a PEM and signs a fresh JWT for every message. Here the
 * private key becomes a KeyObject once, and a token is reused per push-service origin (SPEC §8.6
 * allows reuse until shortly before expiry and asks for at most one signature an hour per origin).
 */
import { sign, type KeyObject } from 'node:crypto';

import { toBase64Url } from './base64url.js';
import { parseVapidKeys, type VapidKeyPair } from './keys.js';
import { PushError } from './push-errors.js';

/**
 * Tokens say `exp` = signing time + 12 h (RFC 8292 §2: at most 24 h; half that leaves room for a
 * push service whose clock runs ahead of ours). A cached token is replaced once it is an hour old,
 * so every token we send has at least 11 h left, and each origin costs one signature an hour.
 */
export const VAPID_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;
export const VAPID_RESIGN_AFTER_MS = 60 * 60 * 1000;
/** Push-service origins are few (FCM, Mozilla, Apple, Microsoft, some relays); this is a safety cap. */
const MAX_CACHED_ORIGINS = 1000;

/** The JOSE header, identical for every token (RFC 8292 §2). */
const JWT_HEADER = toBase64Url(Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ES256' })));

export interface VapidClaims {
  /** The push resource's origin (RFC 8292 §2). */
  aud: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** mailto: or https: contact for the push service operator. */
  sub: string;
}

/** Signs one VAPID JWT. ES256 signatures in a JWS are r ‖ s, hence `ieee-p1363` (RFC 7518 §3.4). */
export function signVapidJwt(claims: VapidClaims, signingKey: KeyObject): string {
  const payload = toBase64Url(Buffer.from(JSON.stringify({ aud: claims.aud, exp: claims.exp, sub: claims.sub })));
  const signingInput = `${JWT_HEADER}.${payload}`;
  const signature = sign('sha256', Buffer.from(signingInput), { key: signingKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${toBase64Url(signature)}`;
}

export type ContentEncoding = 'aes128gcm' | 'aesgcm';

export interface VapidHeaders {
  /** The whole `Authorization` header value. */
  authorization: string;
  /** aesgcm only: the `p256ecdsa=` parameter to join into `Crypto-Key` with the `dh=` one. */
  cryptoKey?: string;
}

/**
 * The two header forms. aes128gcm uses RFC 8292 §3: `Authorization: vapid t=<JWT>, k=<key>`.
 * aesgcm uses the older draft-ietf-webpush-vapid-01 form that relays and iOS apps still expect:
 * `Authorization: WebPush <JWT>` with the key in `Crypto-Key: p256ecdsa=<key>`.
 */
export function formatVapidHeaders(token: string, publicKey: string, encoding: ContentEncoding): VapidHeaders {
  if (encoding === 'aes128gcm') return { authorization: `vapid t=${token}, k=${publicKey}` };
  return { authorization: `WebPush ${token}`, cryptoKey: `p256ecdsa=${publicKey}` };
}

export interface VapidSignerOptions extends VapidKeyPair {
  subject: string;
  /** Milliseconds since the epoch, like Date.now. */
  now: () => number;
}

export interface VapidSigner {
  /** Our public key, url-safe base64 without padding (the `k=` / `p256ecdsa=` value). */
  readonly publicKey: string;
  /** A valid token whose `aud` is the endpoint's origin, signed or taken from the cache. */
  tokenFor(endpoint: string | URL): string;
  /** tokenFor + formatVapidHeaders. */
  headersFor(endpoint: string | URL, encoding: ContentEncoding): VapidHeaders;
}

interface CachedToken {
  token: string;
  signedAt: number;
}

/** Parses the key pair once (throws ERR_VAPID_INVALID_KEY) and caches tokens per origin. */
export function createVapidSigner(options: VapidSignerOptions): VapidSigner {
  const { signingKey, publicKey: publicPoint } = parseVapidKeys(options);
  const publicKey = toBase64Url(publicPoint);
  const { subject, now } = options;
  if (typeof subject !== 'string' || subject === '') {
    throw new PushError('ERR_VAPID_INVALID_SUBJECT', 'the VAPID subject is empty');
  }
  const cache = new Map<string, CachedToken>();

  function tokenFor(endpoint: string | URL): string {
    const audience = (typeof endpoint === 'string' ? new URL(endpoint) : endpoint).origin;
    const at = now();
    const cached = cache.get(audience);
    // A clock that stepped back also re-signs, or `exp` could end up more than 24 h ahead.
    if (cached && at >= cached.signedAt && at - cached.signedAt < VAPID_RESIGN_AFTER_MS) {
      return cached.token;
    }
    const exp = Math.floor(at / 1000) + VAPID_TOKEN_LIFETIME_SECONDS;
    const token = signVapidJwt({ aud: audience, exp, sub: subject }, signingKey);
    cache.delete(audience);
    if (cache.size >= MAX_CACHED_ORIGINS) {
      // Maps iterate in insertion order, so the first key is the origin signed longest ago.
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(audience, { token, signedAt: at });
    return token;
  }

  return {
    publicKey,
    tokenFor,
    headersFor: (endpoint, encoding) => formatVapidHeaders(tokenFor(endpoint), publicKey, encoding),
  };
}
