// Id pagination and the Link header (SPEC §1.6, §12).

export interface PageQuery {
  readonly limit: number;
  readonly maxId?: number;
  readonly sinceId?: number;
  readonly minId?: number;
}

/**
 * Which way to walk: with `min_id` the page is taken oldest first above the cursor (then reversed),
 * otherwise newest first below `max_id` and above `since_id`. `since_id` is ignored with `min_id`.
 */
export function pageRange(page: PageQuery): { lower?: number; upper?: number; ascending: boolean } {
  if (page.minId !== undefined) return { lower: page.minId, upper: page.maxId, ascending: true };
  return { lower: page.sinceId, upper: page.maxId, ascending: false };
}

export type QueryValue = string | readonly string[];

/** Encodes a query the way Mastodon's Link headers do: keys sorted, arrays as `key%5B%5D=v`. */
export function encodeQuery(params: Readonly<Record<string, QueryValue>>): string {
  const parts: string[] = [];
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    if (typeof value === 'string') {
      parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
    } else {
      const name = encodeURIComponent(`${key}[]`);
      for (const v of value) parts.push(`${name}=${encodeURIComponent(v)}`);
    }
  }
  return parts.join('&');
}

/**
 * The Link header for a page whose ids (or cursors) run from `newest` to `oldest`, or undefined for an empty
 * page. `next` only on a full page (deviation from Mastodon, SPEC §1.6).
 */
export function buildLinkHeader(options: {
  url: string;
  filters: Readonly<Record<string, QueryValue>>;
  newest: number | string | undefined;
  oldest: number | string | undefined;
  full: boolean;
}): string | undefined {
  const { url, filters, newest, oldest, full } = options;
  if (newest === undefined || oldest === undefined) return undefined;
  const links: string[] = [];
  if (full) links.push(`<${url}?${encodeQuery({ ...filters, max_id: String(oldest) })}>; rel="next"`);
  links.push(`<${url}?${encodeQuery({ ...filters, min_id: String(newest) })}>; rel="prev"`);
  return links.join(', ');
}

/** Keeps only the listed filter parameters, exactly as the client sent them. */
export function pickFilters(query: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, QueryValue> {
  const out: Record<string, QueryValue> = {};
  for (const key of keys) {
    const value = query[key];
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.filter((v): v is string => typeof v === 'string');
  }
  return out;
}
