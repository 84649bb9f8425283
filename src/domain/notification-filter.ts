// Reads the listing filters a client sends (SPEC §4.1) into what the store understands. Pure.
import { isNotificationType } from './notification-types.js';
import { castBoolean, stringArray } from './params.js';
import { readId } from './records.js';

export interface ListingFilter {
  readonly types?: readonly string[];
  readonly excludeTypes?: readonly string[];
  readonly fromAccountId?: string;
  readonly includeFiltered: boolean;
  readonly supportedTypes?: ReadonlySet<string>;
}

/** `types[]`: unknown values are dropped, and if none is left the answer is empty (`types: []`). */
export function readTypes(value: unknown): string[] | undefined {
  const list = stringArray(value);
  if (list === undefined || list.length === 0) return undefined;
  return list.filter(isNotificationType);
}

export function readListingFilter(query: Readonly<Record<string, unknown>>, options: { allowAccount: boolean }): ListingFilter {
  const excluded = stringArray(query.exclude_types)?.filter(isNotificationType);
  const supported = stringArray(query.supported_types);
  const fromAccountId = options.allowAccount ? readId(query.account_id) : undefined;
  return {
    types: readTypes(query.types),
    excludeTypes: excluded && excluded.length > 0 ? excluded : undefined,
    fromAccountId,
    // Asking for one actor's notifications includes the filtered ones (Mastodon does the same).
    includeFiltered: castBoolean(query.include_filtered) === true || fromAccountId !== undefined,
    supportedTypes: supported ? new Set(supported) : undefined,
  };
}
