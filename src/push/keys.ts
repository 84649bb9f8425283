/**
 * P-256 keys for Web Push: checking the keys a browser hands us (SPEC §8.2), and the VAPID key pair
 * (SPEC §8.3, RFC 8292 §3.2). Points are always the 65-byte uncompressed form (0x04 ‖ X ‖ Y), the
 * form RFC 8291 §3.1 puts on the wire.
 */
import { createECDH, createPrivateKey, createPublicKey, type ECDH, type KeyObject } from 'node:crypto';

import { decodeSubscriptionKey, toBase64Url } from './base64url.js';
import { PushError, type PushErrorCode } from './push-errors.js';

export const P256_POINT_BYTES = 65;
export const P256_SCALAR_BYTES = 32;
/** RFC 8291 §3.2: the authentication secret is 16 octets. */
export const AUTH_SECRET_BYTES = 16;

/** Decodes and checks a subscription's `p256dh`; throws ERR_SUBSCRIPTION_INVALID_KEY. */
export function parseP256dh(text: string): Buffer {
  const point = typeof text === 'string' ? decodeSubscriptionKey(text) : null;
  if (point === null) {
    throw new PushError('ERR_SUBSCRIPTION_INVALID_KEY', 'p256dh is not base64');
  }
  assertP256Point(point, 'ERR_SUBSCRIPTION_INVALID_KEY', 'p256dh');
  return point;
}

/**
 * Decodes a subscription's `auth`; throws ERR_SUBSCRIPTION_INVALID_AUTH. SPEC §8.2 deviation:
 * Mastodon does not check the length, but browsers generate exactly 16 bytes (RFC 8291 §3.2), so
 * anything else cannot be theirs and every message would fail to decrypt on the device.
 */
export function parseAuthSecret(text: string): Buffer {
  const secret = typeof text === 'string' ? decodeSubscriptionKey(text) : null;
  if (secret === null) {
    throw new PushError('ERR_SUBSCRIPTION_INVALID_AUTH', 'auth is not base64');
  }
  if (secret.length !== AUTH_SECRET_BYTES) {
    throw new PushError(
      'ERR_SUBSCRIPTION_INVALID_AUTH',
      `auth must decode to ${AUTH_SECRET_BYTES} bytes, got ${secret.length}`,
    );
  }
  return secret;
}

/**
 * Throws unless `point` is an uncompressed P-256 point that lies on the curve. The length and
 * prefix alone are not enough: a point off the curve makes ECDH fail at every send (or, with a
 * careless implementation, leaks key bits through an invalid-curve attack).
 */
export function assertP256Point(point: Uint8Array, code: PushErrorCode, label: string): void {
  if (point.length !== P256_POINT_BYTES || point[0] !== 0x04) {
    throw new PushError(
      code,
      `${label} must be a 65-byte uncompressed P-256 point (0x04 ‖ X ‖ Y), got ${point.length} bytes`,
    );
  }
  try {
    publicKeyFromPoint(point);
  } catch (cause) {
    throw new PushError(code, `${label} is not a point on the P-256 curve`, { cause });
  }
}

/** A public KeyObject for a 65-byte point; OpenSSL refuses points off the curve. */
export function publicKeyFromPoint(point: Uint8Array): KeyObject {
  const bytes = Buffer.from(point.buffer, point.byteOffset, point.byteLength);
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: toBase64Url(bytes.subarray(1, 33)), y: toBase64Url(bytes.subarray(33)) },
    format: 'jwk',
  });
}

/** Both halves as url-safe base64 without padding, the form HERALD_VAPID_* settings take. */
export interface VapidKeyPair {
  publicKey: string;
  privateKey: string;
}

/** The decoded VAPID pair, with the signing key parsed once (parsing per message is what is slow). */
export interface VapidKeys {
  publicKey: Buffer;
  privateKey: Buffer;
  signingKey: KeyObject;
}

/**
 * A new VAPID key pair. This and createEphemeralKey are the only functions of src/push that draw
 * randomness; they are called at first start and per message, by the caller that owns randomness.
 */
export function generateVapidKeys(): VapidKeyPair {
  const { ecdh, publicKey } = createEphemeralKey();
  return {
    publicKey: toBase64Url(publicKey),
    privateKey: toBase64Url(leftPad(ecdh.getPrivateKey(), P256_SCALAR_BYTES)),
  };
}

/**
 * A P-256 key pair for one message (RFC 8291 §3.1: new for every message), with its public half as
 * generating it returned it: encoding it again per message was ~4 % of a message's encryption.
 */
export interface EphemeralKey {
  readonly ecdh: ECDH;
  readonly publicKey: Buffer;
}

export function createEphemeralKey(): EphemeralKey {
  const ecdh = createECDH('prime256v1');
  return { ecdh, publicKey: ecdh.generateKeys() };
}

/**
 * Keys for a message encrypted as soon as its key is drawn: one ECDH object whose `generateKeys` replaces
 * both halves on every draw (OpenSSL's EC_KEY_generate_key draws a new private scalar each time), so a drawn
 * key is good only until the next draw from the same source. A new ECDH object per key costs its
 * construction and its collection too: 35 µs a key against 16 (`createECDH('prime256v1')` in a loop, the
 * bench machine), 9 % of a message. Keys kept for later (the encryption threads' stock) need createEphemeralKey.
 */
export function oneShotKeySource(): () => EphemeralKey {
  const ecdh = createECDH('prime256v1');
  return () => ({ ecdh, publicKey: ecdh.generateKeys() });
}

/**
 * Checks and decodes a configured VAPID pair: the public half must be a curve point, the private
 * half a 32-byte scalar, and they must belong together (a mismatch would make every push service
 * answer 401/403 and, per SPEC §8.7, look like a dead subscription).
 */
export function parseVapidKeys(pair: VapidKeyPair): VapidKeys {
  const publicKey = decodeSubscriptionKey(pair.publicKey);
  const rawPrivateKey = decodeSubscriptionKey(pair.privateKey);
  if (publicKey === null) throw new PushError('ERR_VAPID_INVALID_KEY', 'VAPID public key is not base64');
  if (rawPrivateKey === null) throw new PushError('ERR_VAPID_INVALID_KEY', 'VAPID private key is not base64');
  assertP256Point(publicKey, 'ERR_VAPID_INVALID_KEY', 'VAPID public key');
  // Some generators (old web-push, see its issue #295) dropped leading zero bytes of the scalar;
  // restoring them is safe because the derived public key is compared below.
  if (rawPrivateKey.length === 0 || rawPrivateKey.length > P256_SCALAR_BYTES) {
    throw new PushError(
      'ERR_VAPID_INVALID_KEY',
      `VAPID private key must decode to ${P256_SCALAR_BYTES} bytes, got ${rawPrivateKey.length}`,
    );
  }
  const privateKey = leftPad(rawPrivateKey, P256_SCALAR_BYTES);
  let derived: Buffer;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(privateKey);
    derived = ecdh.getPublicKey();
  } catch (cause) {
    throw new PushError('ERR_VAPID_INVALID_KEY', 'VAPID private key is not a valid P-256 scalar', { cause });
  }
  if (!derived.equals(publicKey)) {
    throw new PushError('ERR_VAPID_INVALID_KEY', 'VAPID public key does not belong to the private key');
  }
  const signingKey = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: toBase64Url(publicKey.subarray(1, 33)),
      y: toBase64Url(publicKey.subarray(33)),
      d: toBase64Url(privateKey),
    },
    format: 'jwk',
  });
  return { publicKey, privateKey, signingKey };
}

/** Restores leading zero bytes that big-number encoders drop. */
function leftPad(bytes: Buffer, length: number): Buffer {
  return bytes.length >= length ? bytes : Buffer.concat([Buffer.alloc(length - bytes.length), bytes]);
}
