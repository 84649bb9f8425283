// Which accounts a grouped-notifications answer carries, and how (SPEC §6 `expand_accounts`). Pure.
import { badParameter } from './errors.js';

export type ExpandAccounts = 'full' | 'partial_avatars';

/** `expand_accounts`: absent or `full`, or `partial_avatars`; anything else is a 400 with Mastodon's text. */
export function readExpandAccounts(value: unknown): ExpandAccounts {
  if (value === undefined || value === null || value === 'full') return 'full';
  if (value === 'partial_avatars') return 'partial_avatars';
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  throw badParameter(`Invalid value for 'expand_accounts': '${shown}', allowed values are 'full' and 'partial_avatars'`);
}

export interface AccountSplit {
  /** Rendered in full, each once, in group order. */
  readonly full: readonly string[];
  /** Rendered as partial accounts (avatars only); undefined unless partial avatars were asked for. */
  readonly partial?: readonly string[];
}

/**
 * Full mode: every sampled actor in full. Partial avatars: the newest actor of each group in full (clients
 * always show it), the other sampled actors as partial accounts, never both (Mastodon's
 * GroupedNotificationsPresenter).
 */
export function splitGroupAccounts(samples: readonly (readonly string[])[], expand: ExpandAccounts): AccountSplit {
  if (expand === 'full') return { full: unique(samples.flat()) };
  const full = unique(samples.flatMap((ids) => ids.slice(0, 1)));
  const inFull = new Set(full);
  const partial = unique(samples.flatMap((ids) => ids.slice(1))).filter((id) => !inFull.has(id));
  return { full, partial };
}

const unique = (ids: readonly string[]): string[] => [...new Set(ids)];
