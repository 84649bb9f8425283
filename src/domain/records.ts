// Turning the host platform's Account and Status JSON into what Herald stores (SPEC §2). Pure.
import { validationFailed } from './errors.js';

export type JsonObject = Record<string, unknown>;

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Ids from the host are opaque strings; numbers are accepted and read as their decimal text. */
export function readId(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0 && value.length <= 255) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return undefined;
}

/** Parses an ISO 8601 time to epoch ms; undefined when it is not one. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

export const toIso = (ms: number): string => new Date(ms).toISOString();

export interface AccountRecord {
  readonly json: string;
  readonly username: string;
  readonly acct: string;
  readonly locale: string | null;
  readonly suspended: boolean;
  readonly bot: boolean;
  readonly limited: boolean;
  readonly createdAtMs: number | null;
}

/**
 * Validates an upserted Account and fills what clients require but the host left out, so every client
 * library can parse it (Mastodon's Account entity has no optional counts or URLs).
 */
export function toAccountRecord(id: string, body: unknown, publicUrl: string, nowMs: number): AccountRecord {
  if (!isObject(body)) throw validationFailed('Account must be a JSON object');
  const errors: string[] = [];
  const username = body.username;
  const acct = body.acct;
  if (typeof username !== 'string' || username === '') errors.push("Username can't be blank");
  if (typeof acct !== 'string' || acct === '') errors.push("Acct can't be blank");
  for (const flag of ['suspended', 'bot', 'limited', 'locked', 'group'] as const) {
    if (body[flag] !== undefined && body[flag] !== null && typeof body[flag] !== 'boolean') errors.push(`${flag} must be a boolean`);
  }
  if (body.locale !== undefined && body.locale !== null && (typeof body.locale !== 'string' || body.locale.length > 32)) {
    errors.push('locale must be a language tag');
  }
  if (body.created_at !== undefined && body.created_at !== null && parseTime(body.created_at) === undefined) {
    errors.push('created_at must be an ISO 8601 time');
  }
  if (errors.length > 0) throw validationFailed(...errors);
  const name = username as string;
  const createdAtMs = parseTime(body.created_at) ?? null;
  const avatar = `${publicUrl}/avatars/original/missing.png`;
  const header = `${publicUrl}/headers/original/missing.png`;
  const { locale, suspended, ...rest } = body;
  const account: JsonObject = {
    id,
    username: name,
    acct: acct as string,
    display_name: '',
    locked: false,
    bot: false,
    discoverable: null,
    indexable: false,
    group: false,
    created_at: toIso(createdAtMs ?? Math.floor(nowMs / 86_400_000) * 86_400_000),
    note: '',
    url: `${publicUrl}/@${name}`,
    uri: `${publicUrl}/users/${name}`,
    avatar,
    avatar_static: avatar,
    header,
    header_static: header,
    followers_count: 0,
    following_count: 0,
    statuses_count: 0,
    last_status_at: null,
    emojis: [],
    fields: [],
    ...rest,
  };
  account.id = id;
  return {
    json: JSON.stringify(account),
    username: name,
    acct: acct as string,
    locale: typeof locale === 'string' && locale !== '' ? locale : null,
    suspended: suspended === true,
    bot: account.bot === true,
    limited: account.limited === true,
    createdAtMs,
  };
}

export interface StatusRecord {
  readonly json: string;
  readonly accountId: string | null;
  readonly visibility: string | null;
}

/** A Status is stored as given (its id forced to the path's); only the columns filtering needs are read out. */
export function toStatusRecord(id: string, body: unknown): StatusRecord {
  if (!isObject(body)) throw validationFailed('Status must be a JSON object');
  const errors: string[] = [];
  if (body.visibility !== undefined && typeof body.visibility !== 'string') errors.push('visibility must be a string');
  if (body.account !== undefined && body.account !== null && !isObject(body.account)) errors.push('account must be an object');
  if (errors.length > 0) throw validationFailed(...errors);
  const status = { ...body, id };
  const author = isObject(body.account) ? readId(body.account.id) : undefined;
  return {
    json: JSON.stringify(status),
    accountId: author ?? null,
    visibility: typeof body.visibility === 'string' ? body.visibility : null,
  };
}
