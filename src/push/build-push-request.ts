/**
 * Everything about one push except sending it (the web-push library's one good idea, kept):
 * subscription + plaintext + VAPID signer + injected randomness → URL, headers and body
 * (SPEC §8.6, RFC 8030 §5, RFC 8291, RFC 8292). The sender does the I/O.
 *
 * Header names are lower-case: HTTP/2 requires that on the wire (RFC 9113 §8.2.1) and undici
 * accepts them as given for HTTP/1.1, where names are case-insensitive anyway.
 */
import { createHash, type ECDH } from 'node:crypto';

import { decodeSubscriptionKey, toBase64Url } from './base64url.js';
import { SALT_BYTES } from './ece-crypto.js';
import { encryptAes128gcm } from './encrypt-aes128gcm.js';
import { encryptAesgcm } from './encrypt-aesgcm.js';
import { PushError } from './push-errors.js';
import type { VapidSigner } from './vapid.js';

/** SPEC §8.6: 48 hours, the same horizon after which SPEC §8.4 stops sending at all. */
export const DEFAULT_TTL_SECONDS = 172_800;

/** RFC 8030 §5.3. */
export type Urgency = 'very-low' | 'low' | 'normal' | 'high';
const URGENCIES: ReadonlySet<string> = new Set(['very-low', 'low', 'normal', 'high']);

export interface PushSubscriptionTarget {
  endpoint: string;
  /** As stored: url-safe or standard base64 (already validated at subscribe time), or bytes. */
  p256dh: string | Buffer;
  auth: string | Buffer;
  /** true → RFC 8291 aes128gcm; false → legacy aesgcm (SPEC §8.6). */
  standard: boolean;
}

export interface PushRequestOptions {
  ttl?: number;
  urgency?: Urgency;
  /** From topicForGroupKey; only grouped types carry one (SPEC §12). */
  topic?: string;
  unsubscribeUrl?: string;
}

export interface BuildPushRequestInput {
  subscription: PushSubscriptionTarget;
  /** The payload JSON from buildPushPayload. */
  payload: string | Buffer;
  vapid: VapidSigner;
  /** Cryptographically random bytes, e.g. crypto.randomBytes. */
  random: (size: number) => Buffer;
  /** A fresh P-256 key pair per message, e.g. createEphemeralKey from keys.ts. */
  createEphemeralKey: () => ECDH;
  options?: PushRequestOptions;
}

export interface PushRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: Buffer;
}

export function buildPushRequest(input: BuildPushRequestInput): PushRequest {
  const { subscription, vapid, options = {} } = input;
  const headers = baseHeaders(options);
  const plaintext = typeof input.payload === 'string' ? Buffer.from(input.payload, 'utf8') : input.payload;
  const uaPublic = keyBytes(subscription.p256dh, 'ERR_SUBSCRIPTION_INVALID_KEY', 'p256dh');
  const authSecret = keyBytes(subscription.auth, 'ERR_SUBSCRIPTION_INVALID_AUTH', 'auth');
  const endpoint = parseEndpoint(subscription.endpoint);
  // RFC 8291 §3.1, §3.4: a new key pair and salt for every message, retries included (SPEC §12).
  const salt = input.random(SALT_BYTES);
  if (salt.length !== SALT_BYTES) throw new PushError('ERR_PUSH_INVALID_OPTION', `random(${SALT_BYTES}) gave ${salt.length} bytes`);
  const senderKeys = input.createEphemeralKey();

  if (subscription.standard) {
    const body = encryptAes128gcm({ plaintext, uaPublic, authSecret, salt, senderKeys });
    headers['content-encoding'] = 'aes128gcm';
    headers.authorization = vapid.headersFor(endpoint, 'aes128gcm').authorization;
    return { url: subscription.endpoint, method: 'POST', headers, body };
  }

  const message = encryptAesgcm({ plaintext, uaPublic, authSecret, salt, senderKeys });
  const auth = vapid.headersFor(endpoint, 'aesgcm');
  headers['content-encoding'] = 'aesgcm';
  headers.authorization = auth.authorization;
  // Legacy aesgcm carries the salt and our public key in headers, not in the body.
  headers.encryption = `salt=${toBase64Url(message.salt)}`;
  headers['crypto-key'] = `dh=${toBase64Url(message.senderPublic)};${auth.cryptoKey}`;
  return { url: subscription.endpoint, method: 'POST', headers, body: message.body };
}

function baseHeaders(options: PushRequestOptions): Record<string, string> {
  const ttl = options.ttl ?? DEFAULT_TTL_SECONDS;
  if (!Number.isSafeInteger(ttl) || ttl < 0) {
    throw new PushError('ERR_PUSH_INVALID_OPTION', `TTL must be a non-negative integer of seconds, got ${ttl}`);
  }
  const urgency = options.urgency ?? 'normal';
  if (!URGENCIES.has(urgency)) throw new PushError('ERR_PUSH_INVALID_OPTION', `unknown Urgency "${urgency}"`);
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    ttl: String(ttl),
    urgency,
  };
  if (options.topic !== undefined) {
    if (!isValidTopic(options.topic)) {
      throw new PushError('ERR_PUSH_INVALID_OPTION', 'Topic must be 1–32 url-safe base64 characters (RFC 8030 §5.4)');
    }
    headers.topic = options.topic;
  }
  if (options.unsubscribeUrl !== undefined) {
    // Guard against header injection: a URL is printable ASCII after WHATWG serialization.
    if (!/^https?:\/\/[\x21-\x7e]+$/.test(options.unsubscribeUrl)) {
      throw new PushError('ERR_PUSH_INVALID_OPTION', 'Unsubscribe-URL must be an absolute http(s) URL');
    }
    headers['unsubscribe-url'] = options.unsubscribeUrl;
  }
  return headers;
}

function keyBytes(value: string | Buffer, code: 'ERR_SUBSCRIPTION_INVALID_KEY' | 'ERR_SUBSCRIPTION_INVALID_AUTH', label: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  const bytes = typeof value === 'string' ? decodeSubscriptionKey(value) : null;
  if (bytes === null) throw new PushError(code, `subscription ${label} is not base64`);
  return bytes;
}

function parseEndpoint(endpoint: string): URL {
  try {
    return new URL(endpoint);
  } catch {
    throw new PushError('ERR_SUBSCRIPTION_INVALID_ENDPOINT', 'endpoint is not an absolute URL');
  }
}

/** RFC 8030 §5.4: at most 32 characters of the url and filename safe base64 alphabet. */
export function isValidTopic(topic: string): boolean {
  return /^[A-Za-z0-9_-]{1,32}$/.test(topic);
}

/**
 * A Topic for a notification group (SPEC §8.6): the push service keeps only the newest undelivered
 * message per topic, so a burst of favourites to a sleeping phone arrives as one. Group keys are
 * longer than 32 characters and may hold any character, so they are hashed: the first 24 bytes of
 * SHA-256 make exactly 32 base64url characters. Deterministic, so every message of a group agrees.
 */
export function topicForGroupKey(groupKey: string): string {
  return toBase64Url(createHash('sha256').update(groupKey, 'utf8').digest().subarray(0, 24));
}
