/**
 * The primitives both push encodings share: HKDF-SHA-256 (RFC 5869), the ECDH agreement between
 * our ephemeral key and the browser's key, and sealing one AES-128-GCM record.
 *
 * HKDF is written out with HMAC rather than `hkdfSync` because every output we need is at most one
 * SHA-256 block, and doing the extract step once for both the key and the nonce saves two HMACs.
 */
import { createCipheriv, createECDH, createHmac, type ECDH } from 'node:crypto';

import { AUTH_SECRET_BYTES, P256_POINT_BYTES, type EphemeralKey } from './keys.js';
import { PushError } from './push-errors.js';

/** RFC 8188 §2: AES-128-GCM adds a 16-byte tag to every record. */
export const GCM_TAG_BYTES = 16;
/** RFC 8291 §3.4 / RFC 8188 §2.1: a 16-byte random salt, fresh for every message. */
export const SALT_BYTES = 16;

/**
 * The application server's ephemeral key pair for one message: as the key factory makes it, or the raw
 * halves (as the RFC 8291 Appendix A vector gives them).
 */
export type SenderKeys = EphemeralKey | { publicKey: Buffer; privateKey: Buffer };

export function hkdfExtract(salt: Buffer, ikm: Buffer): Buffer {
  return createHmac('sha256', salt).update(ikm).digest();
}

/**
 * HKDF-Expand for lengths up to 32 bytes: T(1) = HMAC(PRK, info ‖ 0x01), truncated. `info` may come in
 * parts, hashed in order, so a message's labels and keys are not copied into one buffer first.
 */
export function hkdfExpand(prk: Buffer, info: Buffer | readonly Buffer[], length: number): Buffer {
  if (length > 32) throw new RangeError('hkdfExpand here serves at most one SHA-256 block');
  const hmac = createHmac('sha256', prk);
  if (Buffer.isBuffer(info)) hmac.update(info);
  else for (const part of info) hmac.update(part);
  return hmac.update(ONE).digest().subarray(0, length);
}

const ONE = Buffer.from([1]);

/**
 * The ECDH shared secret and our public key. A receiver key that is not on the curve surfaces as
 * ERR_SUBSCRIPTION_INVALID_KEY, so a subscription stored before validation existed fails clearly.
 */
export function agreeSecret(senderKeys: SenderKeys, uaPublic: Buffer): { secret: Buffer; senderPublic: Buffer } {
  let ecdh: ECDH;
  let senderPublic: Buffer;
  if ('ecdh' in senderKeys) {
    ecdh = senderKeys.ecdh;
    senderPublic = senderKeys.publicKey;
  } else {
    ecdh = createECDH('prime256v1');
    try {
      ecdh.setPrivateKey(senderKeys.privateKey);
    } catch (cause) {
      throw new PushError('ERR_PUSH_INVALID_OPTION', 'sender private key is not a P-256 scalar', { cause });
    }
    senderPublic = senderKeys.publicKey;
    if (!ecdh.getPublicKey().equals(senderPublic)) {
      throw new PushError('ERR_PUSH_INVALID_OPTION', 'sender public key does not match its private key');
    }
  }
  if (uaPublic.length !== P256_POINT_BYTES) {
    throw new PushError('ERR_SUBSCRIPTION_INVALID_KEY', `p256dh must be ${P256_POINT_BYTES} bytes, got ${uaPublic.length}`);
  }
  try {
    return { secret: ecdh.computeSecret(uaPublic), senderPublic };
  } catch (cause) {
    throw new PushError('ERR_SUBSCRIPTION_INVALID_KEY', 'p256dh is not a point on the P-256 curve', { cause });
  }
}

/**
 * AES-128-GCM over the given parts, returning prefix ‖ ciphertext ‖ tag (RFC 8188 §2): the prefix (a
 * header, or nothing) is joined in the same copy as the ciphertext.
 */
export function sealRecord(key: Buffer, nonce: Buffer, parts: readonly Buffer[], prefix?: Buffer): Buffer {
  const cipher = createCipheriv('aes-128-gcm', key, nonce);
  const chunks = prefix ? [prefix] : [];
  for (const part of parts) chunks.push(cipher.update(part));
  chunks.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(chunks);
}

/** Checks what both encodings need alike: one record's worth of plaintext, a 16-byte auth secret and salt. */
export function checkEncryptionInputs(
  input: { plaintext: Buffer; authSecret: Buffer; salt: Buffer },
  limit: { encoding: 'aes128gcm' | 'aesgcm'; maxPlaintext: number },
): void {
  if (input.plaintext.length > limit.maxPlaintext) {
    throw new PushError(
      'ERR_PUSH_PAYLOAD_TOO_LARGE',
      `${limit.encoding} plaintext is ${input.plaintext.length} bytes, at most ${limit.maxPlaintext} fit in one record`,
    );
  }
  if (input.authSecret.length !== AUTH_SECRET_BYTES) {
    throw new PushError('ERR_SUBSCRIPTION_INVALID_AUTH', `auth secret must be ${AUTH_SECRET_BYTES} bytes`);
  }
  if (input.salt.length !== SALT_BYTES) {
    throw new PushError('ERR_PUSH_INVALID_OPTION', `salt must be ${SALT_BYTES} bytes`);
  }
}
