/**
 * Everything about one push except sending it (the web-push library's one good idea, kept):
 * subscription + plaintext + VAPID signer + injected randomness → URL, headers and body
 * (SPEC §8.6, RFC 8030 §5, RFC 8291, RFC 8292). The sender does the I/O.
 *
 * Header names are lower-case: HTTP/2 requires that on the wire (RFC 9113 §8.2.1) and undici
 * accepts them as given for HTTP/1.1, where names are case-insensitive anyway.
 */
import { createHash } from 'node:crypto';

import { decodeSubscriptionKey, toBase64Url } from './base64url.js';
import { SALT_BYTES } from './ece-crypto.js';
import { encryptAes128gcm } from './encrypt-aes128gcm.js';
import { encryptAesgcm } from './encrypt-aesgcm.js';
import type { EphemeralKey } from './keys.js';
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
  createEphemeralKey: () => EphemeralKey;
  options?: PushRequestOptions;
}

export interface PushRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: Buffer;
}

export function buildPushRequest(input: BuildPushRequestInput): PushRequest {
  const head = pushRequestHead(input.subscription.endpoint, input.options);
  return finishPushRequest(head, encryptPush(input), input.vapid);
}

/** What a push request is before its body: checked options and endpoint, and the headers they make. */
export interface PushRequestHead {
  readonly url: string;
  readonly endpoint: URL;
  readonly headers: Record<string, string>;
}

export function pushRequestHead(endpoint: string, options: PushRequestOptions = {}): PushRequestHead {
  const headers = baseHeaders(options);
  return { url: endpoint, endpoint: parseEndpoint(endpoint), headers };
}

/** One message encrypted for one subscription: the costly part, free of I/O and of the VAPID signer. */
export type EncryptedPush =
  | { readonly encoding: 'aes128gcm'; readonly body: Buffer }
  | { readonly encoding: 'aesgcm'; readonly body: Buffer; readonly senderPublic: Buffer; readonly salt: Buffer };

export type EncryptPushInput = Pick<BuildPushRequestInput, 'payload' | 'random' | 'createEphemeralKey'> & {
  subscription: Pick<PushSubscriptionTarget, 'p256dh' | 'auth' | 'standard'>;
};

export function encryptPush(input: EncryptPushInput): EncryptedPush {
  const { subscription } = input;
  const plaintext = typeof input.payload === 'string' ? Buffer.from(input.payload, 'utf8') : input.payload;
  const uaPublic = keyBytes(subscription.p256dh, 'ERR_SUBSCRIPTION_INVALID_KEY', 'p256dh');
  const authSecret = keyBytes(subscription.auth, 'ERR_SUBSCRIPTION_INVALID_AUTH', 'auth');
  const salt = input.random(SALT_BYTES);
  if (salt.length !== SALT_BYTES) throw new PushError('ERR_PUSH_INVALID_OPTION', `random(${SALT_BYTES}) gave ${salt.length} bytes`);
  const senderKeys = input.createEphemeralKey();
  if (subscription.standard) {
    return { encoding: 'aes128gcm', body: encryptAes128gcm({ plaintext, uaPublic, authSecret, salt, senderKeys }) };
  }
  return { encoding: 'aesgcm', ...encryptAesgcm({ plaintext, uaPublic, authSecret, salt, senderKeys }) };
}

/** The request from its head and its encrypted body, with the VAPID headers for the endpoint's origin. */
export function finishPushRequest(head: PushRequestHead, encrypted: EncryptedPush, vapid: VapidSigner): PushRequest {
  const headers: Record<string, string> = { ...head.headers, 'content-encoding': encrypted.encoding };
  if (encrypted.encoding === 'aes128gcm') {
    headers.authorization = vapid.headersFor(head.endpoint, 'aes128gcm').authorization;
  } else {
    const auth = vapid.headersFor(head.endpoint, 'aesgcm');
    headers.authorization = auth.authorization;
    headers.encryption = `salt=${toBase64Url(encrypted.salt)}`;
    headers['crypto-key'] = `dh=${toBase64Url(encrypted.senderPublic)};${auth.cryptoKey}`;
  }
  return { url: head.url, method: 'POST', headers, body: encrypted.body };
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
