// Reading client parameters the way Mastodon (Rails) reads them (SPEC §1.3, §1.5, §12).
import { badParameter } from './errors.js';
import type { PageQuery } from './pagination.js';

const FALSE_VALUES: ReadonlySet<unknown> = new Set([false, 0, '0', 'f', 'F', 'false', 'FALSE', 'off', 'OFF']);

/** Rails boolean casting: listed false values are false, "" and absent are unset, anything else is true. */
export function castBoolean(value: unknown): boolean | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return !FALSE_VALUES.has(value);
}

/** Ruby's String#to_i: the leading integer part, 0 when there is none. */
export function rubyToInt(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value !== 'string') return 0;
  const match = /^\s*([+-]?)(\d[\d_]*)/.exec(value);
  if (!match) return 0;
  const digits = match[2].replace(/_/g, '');
  const n = Number(digits.length > 16 ? digits.slice(0, 16) : digits);
  return match[1] === '-' ? -n : n;
}

/** `limit` per SPEC §1.5: absent → default; otherwise min(|to_i|, max); 0 means an empty page. */
export function parseLimit(value: unknown, defaultLimit: number, max: number): number {
  if (value === undefined || value === null) return defaultLimit;
  if (Array.isArray(value) || typeof value === 'object') return 0;
  return Math.min(Math.abs(rubyToInt(value)), max);
}

const CURSOR = /^\d{1,15}$/;
const DIGITS = /^\d+$/;

/** Ids stay below 2^53 (SPEC §1.4): a larger integer is a position beyond every id, which this one still is. */
const beyondNoId = (n: number): number => Math.min(n, Number.MAX_SAFE_INTEGER);

/**
 * A cursor (`max_id`, …): absent or "" is unset; anything but a non-negative integer is a 400. An integer of
 * any length is a cursor (SPEC §12), so `max_id=99999999999999999999` means "below every id", not a 400.
 */
export function parseCursor(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return beyondNoId(value);
  if (typeof value === 'string' && DIGITS.test(value)) return beyondNoId(Number(value));
  throw badParameter(`Invalid ${name}`);
}

/**
 * Where a marker says the user stopped reading, as an id to count above; undefined when it is not an integer
 * (Mastodon casts such a marker to 0: everything is unread). A marker beyond every id leaves nothing unread.
 */
export function markerPosition(lastReadId: string | undefined): number | undefined {
  return lastReadId !== undefined && DIGITS.test(lastReadId) ? beyondNoId(Number(lastReadId)) : undefined;
}

/** A path `:id` of a notification: anything but a non-negative integer cannot exist. */
export function parseRecordId(value: unknown): number | undefined {
  if (typeof value === 'string' && CURSOR.test(value)) return Number(value);
  return undefined;
}

/** An array parameter (`types[]`); a scalar is ignored, as in Mastodon. Non-string members are dropped. */
export function stringArray(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter((v): v is string => typeof v === 'string');
}

/** A scalar string parameter; arrays and objects are not strings. */
export function stringParam(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** `limit` and the three cursors of an id-paginated listing (SPEC §1.5, §1.6). */
export function readPageQuery(query: Readonly<Record<string, unknown>>, defaultLimit: number, max: number): PageQuery {
  return {
    limit: parseLimit(query.limit, defaultLimit, max),
    maxId: parseCursor(query.max_id, 'max_id'),
    sinceId: parseCursor(query.since_id, 'since_id'),
    minId: parseCursor(query.min_id, 'min_id'),
  };
}
