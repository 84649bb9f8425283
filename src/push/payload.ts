/**
 * The push payload of SPEC §8.5: the JSON the official Mastodon service worker (and Tusky, Ivory,
 * Elk …) reads after decrypting. Key order matters to nobody's parser but is part of the contract
 * and makes payloads comparable byte for byte, so objects are built in that order.
 */
import { htmlToText, plainToText } from './html-text.js';
import { interpolateTitle, titleTemplate } from './push-texts.js';

/**
 * RFC 8291 §4: 3993 bytes of plaintext fit one aes128gcm record; legacy aesgcm allows 4078, so
 * this one bound serves both encodings.
 */
export const PUSH_PAYLOAD_MAX_BYTES = 3993;
/** Mastodon's `truncate(…, length: 140)`: 137 characters and "...". */
export const PUSH_BODY_MAX_CHARS = 140;
/**
 * Mastodon caps display names at 30 characters; a host platform might not. Cutting the name keeps
 * a pathological one from pushing the body out of the size budget.
 */
export const PUSH_NAME_MAX_CHARS = 100;
const ELLIPSIS = '...';

export interface PushPayloadInput {
  /** The plain token that created the subscription. */
  accessToken: string;
  /** The recipient account's locale; absent or malformed means English. */
  locale?: string | null;
  notificationId: number;
  type: string;
  actor: { display_name?: string | null; username: string; avatar_static?: string | null; note?: string | null };
  status?: { spoiler_text?: string | null; text?: string | null; content?: string | null } | null;
}

export interface PushPayload {
  access_token: string;
  preferred_locale: string;
  notification_id: number;
  notification_type: string;
  icon: string;
  title: string;
  body: string;
}

/** The serialized payload, always at most PUSH_PAYLOAD_MAX_BYTES of UTF-8. */
export function buildPushPayload(input: PushPayloadInput, maxBytes = PUSH_PAYLOAD_MAX_BYTES): string {
  const payload = composePushPayload(input);
  const json = JSON.stringify(payload);
  // The usual case fits at once; serialize only once for it.
  if (Buffer.byteLength(json, 'utf8') <= maxBytes) return json;
  return JSON.stringify(fitPushPayload(payload, maxBytes));
}

/** The payload before any size limit, in SPEC §8.5 key order. */
export function composePushPayload(input: PushPayloadInput): PushPayload {
  const { actor, status } = input;
  const displayName = actor.display_name?.trim();
  const name = truncateChars(displayName ? displayName : actor.username, PUSH_NAME_MAX_CHARS);
  return {
    access_token: input.accessToken,
    preferred_locale: isLocaleTag(input.locale) ? input.locale : 'en',
    notification_id: input.notificationId,
    notification_type: input.type,
    icon: actor.avatar_static ?? '',
    title: interpolateTitle(titleTemplate(input.type, input.locale), name),
    body: truncateChars(bodyText(status, actor.note), PUSH_BODY_MAX_CHARS),
  };
}

/**
 * SPEC §12 "Push body text": a status gives its spoiler text if not empty, else its source text if
 * present, else its HTML content; without a status, the actor's note (a follow shows who follows).
 */
function bodyText(status: PushPayloadInput['status'], note: string | null | undefined): string {
  if (status) {
    // Judged after stripping: a spoiler of only spaces or tags counts as empty.
    const spoiler = plainToText(status.spoiler_text ?? '');
    if (spoiler !== '') return spoiler;
    if (status.text) return plainToText(status.text);
    return htmlToText(status.content ?? '');
  }
  return htmlToText(note ?? '');
}

/** A BCP 47-looking tag of sane length; anything else is treated as no locale. */
function isLocaleTag(locale: string | null | undefined): locale is string {
  return typeof locale === 'string' && locale.length <= 35 && /^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/.test(locale);
}

/**
 * Cuts to `max` characters (code points, like Ruby's String#length, so a surrogate pair is never
 * split): longer texts keep max − 3 and end in "...".
 */
export function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text; // UTF-16 length ≥ code points, so this is a safe fast path
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, Math.max(0, max - ELLIPSIS.length)).join('') + ELLIPSIS;
}

/** Fields blanked only when even empty texts cannot fit, least useful first. */
const EXPENDABLE = ['icon', 'access_token', 'notification_type'] as const;

/**
 * Makes the serialized payload fit `maxBytes`: shorten `body`, then `title` (each to the longest
 * prefix that fits, plus "..."). When even empty texts cannot fit, because the host gave a
 * monstrous avatar URL or token, the cheapest set of EXPENDABLE fields is blanked first (subsets
 * counted in binary, so `icon` alone is tried before `access_token` alone): a push that shows a
 * title but cannot fetch details beats a push service refusing it (413). With every string blank
 * the JSON is about 130 bytes, so the result always fits.
 */
export function fitPushPayload(payload: PushPayload, maxBytes = PUSH_PAYLOAD_MAX_BYTES): PushPayload {
  if (fits(payload, maxBytes)) return payload;
  let current = payload;
  for (let mask = 0; mask < 1 << EXPENDABLE.length; mask += 1) {
    const candidate = { ...payload };
    EXPENDABLE.forEach((field, bit) => {
      if (mask & (1 << bit)) candidate[field] = '';
    });
    current = candidate;
    if (fits({ ...candidate, title: '', body: '' }, maxBytes)) break;
  }
  for (const field of ['body', 'title'] as const) {
    if (fits(current, maxBytes)) return current;
    current = shortenField(current, field, maxBytes);
  }
  return current;
}

function fits(payload: PushPayload, maxBytes: number): boolean {
  return Buffer.byteLength(JSON.stringify(payload), 'utf8') <= maxBytes;
}

/** Binary search for the longest prefix (in code points) that fits; '' when not even "..." does. */
function shortenField(payload: PushPayload, field: 'body' | 'title', maxBytes: number): PushPayload {
  if (payload[field] === '') return payload;
  const chars = Array.from(payload[field]);
  const withPrefix = (n: number): PushPayload => ({ ...payload, [field]: chars.slice(0, n).join('') + ELLIPSIS });
  if (!fits(withPrefix(0), maxBytes)) return { ...payload, [field]: '' };
  let low = 0; // fits
  let high = chars.length - 1; // the whole text did not fit, so at most length − 1 chars plus "..."
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(withPrefix(mid), maxBytes)) low = mid;
    else high = mid - 1;
  }
  return withPrefix(low);
}
