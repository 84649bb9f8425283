/**
 * RFC 8291 message encryption with the RFC 8188 `aes128gcm` content coding: the standard form,
 * used when the subscription says `standard: true` (SPEC §8.6).
 *
 * Pure: the salt and the ephemeral key come from the caller, which is what lets the test reproduce
 * the RFC 8291 Appendix A message byte for byte.
 */
import {
  agreeSecret,
  checkEncryptionInputs,
  GCM_TAG_BYTES,
  hkdfExpand,
  hkdfExtract,
  sealRecord,
  type SenderKeys,
} from './ece-crypto.js';
import { P256_POINT_BYTES } from './keys.js';

/** RFC 8291 §4: the record size is fixed at 4096 and the push message is a single record. */
export const AES128GCM_RECORD_SIZE = 4096;
/** RFC 8188 §2.1 header: salt(16) ‖ rs(4) ‖ idlen(1) ‖ keyid(65). */
export const AES128GCM_HEADER_BYTES = 16 + 4 + 1 + P256_POINT_BYTES;
/**
 * RFC 8291 §4: 4096 − 86 (header) − 16 (tag) − 1 (padding delimiter) = 3993 bytes of plaintext.
 * Push services refuse larger bodies (413), so we refuse before encrypting.
 */
export const AES128GCM_MAX_PLAINTEXT = AES128GCM_RECORD_SIZE - AES128GCM_HEADER_BYTES - GCM_TAG_BYTES - 1;

const KEY_INFO_LABEL = Buffer.from('WebPush: info\0', 'latin1');
const CEK_INFO = Buffer.from('Content-Encoding: aes128gcm\0', 'latin1');
const NONCE_INFO = Buffer.from('Content-Encoding: nonce\0', 'latin1');
/** RFC 8188 §2: the last (here: only) record ends with the delimiter 0x02 and no further padding. */
const LAST_RECORD_DELIMITER = Buffer.from([0x02]);

export interface Aes128gcmInput {
  plaintext: Buffer;
  /** The browser's `p256dh`, 65 bytes. */
  uaPublic: Buffer;
  /** The browser's `auth`, 16 bytes. */
  authSecret: Buffer;
  /** 16 random bytes, fresh for every message. */
  salt: Buffer;
  /** Our ephemeral key pair, fresh for every message. */
  senderKeys: SenderKeys;
}

/** The complete request body: RFC 8188 header followed by the single encrypted record. */
export function encryptAes128gcm(input: Aes128gcmInput): Buffer {
  const { plaintext, uaPublic, authSecret, salt, senderKeys } = input;
  checkEncryptionInputs({ plaintext, authSecret, salt }, { encoding: 'aes128gcm', maxPlaintext: AES128GCM_MAX_PLAINTEXT });
  const { secret, senderPublic } = agreeSecret(senderKeys, uaPublic);

  // RFC 8291 §3.3–3.4: mix the auth secret and both public keys into the ECDH secret ...
  const prkKey = hkdfExtract(authSecret, secret);
  const ikm = hkdfExpand(prkKey, [KEY_INFO_LABEL, uaPublic, senderPublic], 32);
  // ... then RFC 8188 §2.2–2.3: content-encryption key and nonce from the salt.
  const prk = hkdfExtract(salt, ikm);
  const cek = hkdfExpand(prk, CEK_INFO, 16);
  // The nonce is XORed with the record sequence number; the only record is number 0.
  const nonce = hkdfExpand(prk, NONCE_INFO, 12);

  // Every byte is written below.
  const header = Buffer.allocUnsafe(AES128GCM_HEADER_BYTES);
  salt.copy(header, 0);
  header.writeUInt32BE(AES128GCM_RECORD_SIZE, 16);
  header.writeUInt8(P256_POINT_BYTES, 20);
  // RFC 8291 §4: the keyid carries our ephemeral public key, so no Crypto-Key header is needed.
  senderPublic.copy(header, 21);

  return sealRecord(cek, nonce, [plaintext, LAST_RECORD_DELIMITER], header);
}
