/**
 * Base64 as Web Push uses it. We emit url-safe base64 without padding (RFC 4648 §5; RFC 8292
 * §3.2 asks for that form for the key), except Mastodon's padded `server_key`. What clients send as
 * subscription keys is looser: browsers give url-safe without padding, but some apps send standard
 * base64 with `=`, so SPEC §8.2 accepts both alphabets, padding optional, and nothing else.
 */

const URL_SAFE = /^[A-Za-z0-9_-]*$/;
const STANDARD = /^[A-Za-z0-9+/]*$/;

/** url-safe base64 without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Strict url-safe base64, padding optional. Returns null for anything else: Node's own decoder
 * silently skips foreign characters, which would let garbage through as a shorter buffer.
 */
export function fromBase64Url(text: string): Buffer | null {
  const body = stripPadding(text);
  if (body === null || !URL_SAFE.test(body)) return null;
  return Buffer.from(body, 'base64url');
}

/**
 * Lenient decoder for subscription keys: url-safe or standard alphabet (not a mix of both),
 * padding optional but correct when present. Returns null when the text is not base64.
 */
export function decodeSubscriptionKey(text: string): Buffer | null {
  const body = stripPadding(text);
  if (body === null) return null;
  if (URL_SAFE.test(body)) return Buffer.from(body, 'base64url');
  if (STANDARD.test(body)) return Buffer.from(body, 'base64');
  return null;
}

/**
 * Removes `=` padding, checking it is where and as long as base64 puts it. A body whose length is
 * 1 mod 4 cannot come from any byte string, so it is refused too.
 */
function stripPadding(text: string): string | null {
  const firstPad = text.indexOf('=');
  const body = firstPad === -1 ? text : text.slice(0, firstPad);
  const padding = text.length - body.length;
  if (body.length % 4 === 1) return null;
  if (padding > 0) {
    if (!/^={1,2}$/.test(text.slice(body.length))) return null;
    if (text.length % 4 !== 0) return null;
  }
  return body;
}

/** url-safe base64 with `=` padding: the form of Mastodon's `server_key` entity field (SPEC §8.1). */
export function toBase64UrlPadded(bytes: Uint8Array): string {
  const text = toBase64Url(bytes);
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}
