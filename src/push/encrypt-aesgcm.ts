/**
 * The legacy `aesgcm` content coding: draft-ietf-webpush-encryption-04 over
 * draft-ietf-httpbis-encryption-encoding-03. SPEC §8.6 makes it the default (`standard: false`)
 * because many relays and iOS apps decrypt only this form.
 *
 * Unlike aes128gcm, the salt and our public key travel in headers, not in the body:
 * `Encryption: salt=<b64url>` and `Crypto-Key: dh=<b64url>` (built by build-push-request.ts).
 * Pure: salt and ephemeral key are inputs.
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

/** Two bytes of padding length precede the data in every aesgcm record (draft-03 §2). */
const PADDING_LENGTH_BYTES = 2;
/**
 * A push message body is at most 4096 bytes (RFC 8030 §5: larger ones may be refused with 413), and the
 * single record adds the 16-byte tag and the 2-byte padding length: 4096 − 16 − 2 = 4078.
 */
export const AESGCM_MAX_PLAINTEXT = 4096 - GCM_TAG_BYTES - PADDING_LENGTH_BYTES;

const AUTH_INFO = Buffer.from('Content-Encoding: auth\0', 'latin1');
const CEK_LABEL = Buffer.from('Content-Encoding: aesgcm\0', 'latin1');
const NONCE_LABEL = Buffer.from('Content-Encoding: nonce\0', 'latin1');
const CONTEXT_LABEL = Buffer.from('P-256\0', 'latin1');
/** No padding: the padding length field is zero. */
const NO_PADDING = Buffer.alloc(PADDING_LENGTH_BYTES);

export interface AesgcmInput {
  plaintext: Buffer;
  uaPublic: Buffer;
  authSecret: Buffer;
  salt: Buffer;
  senderKeys: SenderKeys;
}

export interface AesgcmMessage {
  /** The request body: one record, AES-128-GCM(0x0000 ‖ plaintext) ‖ tag. */
  body: Buffer;
  /** Our ephemeral public key, for `Crypto-Key: dh=`. */
  senderPublic: Buffer;
  /** The salt, for `Encryption: salt=`. */
  salt: Buffer;
}

export function encryptAesgcm(input: AesgcmInput): AesgcmMessage {
  const { plaintext, uaPublic, authSecret, salt, senderKeys } = input;
  checkEncryptionInputs({ plaintext, authSecret, salt }, { encoding: 'aesgcm', maxPlaintext: AESGCM_MAX_PLAINTEXT });
  const { secret, senderPublic } = agreeSecret(senderKeys, uaPublic);

  // webpush-encryption-04: the auth secret is mixed in first, with a fixed info string.
  const ikm = hkdfExpand(hkdfExtract(authSecret, secret), AUTH_INFO, 32);
  // encryption-encoding-03 §4.2: the context names the curve and both keys, receiver first.
  const context = keyContext(uaPublic, senderPublic);
  const prk = hkdfExtract(salt, ikm);
  const cek = hkdfExpand(prk, [CEK_LABEL, context], 16);
  // Record 0: the nonce is used as derived (XOR with sequence number 0).
  const nonce = hkdfExpand(prk, [NONCE_LABEL, context], 12);

  return { body: sealRecord(cek, nonce, [NO_PADDING, plaintext]), senderPublic, salt };
}

/** "P-256\0" ‖ len ‖ receiver key ‖ len ‖ sender key, lengths as 16-bit big-endian, in one buffer. */
function keyContext(receiver: Buffer, sender: Buffer): Buffer {
  const out = Buffer.allocUnsafe(CONTEXT_LABEL.length + 4 + receiver.length + sender.length);
  let at = CONTEXT_LABEL.copy(out, 0);
  at = out.writeUInt16BE(receiver.length, at);
  at += receiver.copy(out, at);
  at = out.writeUInt16BE(sender.length, at);
  sender.copy(out, at);
  return out;
}
