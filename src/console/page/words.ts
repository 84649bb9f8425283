/// <reference lib="dom" />
// Plain words for numbers, times and the codes the admin JSON carries. Times are shown in UTC, as Herald's
// own sentences and logs give them; the raw ISO time stays one click below.

/** "1 delivery", "3 deliveries". */
export function count(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

/** "12 seconds", "3 minutes", "2 hours", "4 days": the largest whole unit. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return count(s, 'second', 'seconds');
  if (s < 90 * 60) return count(Math.round(s / 60), 'minute', 'minutes');
  if (s < 36 * 3600) return count(Math.round(s / 3600), 'hour', 'hours');
  return count(Math.round(s / 86400), 'day', 'days');
}

/** "5 seconds ago" from an ISO time and the server's clock. */
export function ago(iso: string, now: number): string {
  return `${duration((now - Date.parse(iso)) / 1000)} ago`;
}

const TIME = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
const SECONDS = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: 'UTC' });
const DAY = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });

/** "14:02 UTC" today, "22 Nov 14:02 UTC" another day. */
export function clock(iso: string, now: number = Date.now()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const sameDay = DAY.format(at) === DAY.format(now);
  return `${sameDay ? '' : `${DAY.format(at)} `}${TIME.format(at)} UTC`;
}

/** "2026-11-22 14:02:05 UTC": an exact time, for the raw numbers. */
export function exactTime(iso: string | null): string {
  if (iso === null) return '—';
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "14:02:05 UTC". */
export function clockWithSeconds(at: Date): string {
  return `${SECONDS.format(at)} UTC`;
}

/** "40 ms", "1.2 s". */
export function millis(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** SPEC §14: origins are shown as host[:port]. */
export function host(origin: string): string {
  try {
    return new URL(origin).host || origin;
  } catch {
    return origin;
  }
}

/** "410" → "HTTP 410"; "network: ECONNRESET" → "a network error (ECONNRESET)". */
export function failureStatus(status: string): string {
  if (/^\d{3}$/.test(status)) return `HTTP ${status}`;
  const network = /^network:\s*(.*)$/.exec(status);
  if (network) return network[1] ? `a network error (${network[1]})` : 'a network error';
  return status;
}

const OUTCOMES: Readonly<Record<string, string>> = {
  delivered: 'Delivered',
  retry: 'Failed, retried later',
  gone: 'Subscription gone (404/410)',
  refused: 'Refused (401/403)',
  given_up: 'Given up',
  paused: 'Held while paused',
  skipped: 'Skipped (nothing left to send)',
};

export function outcomeName(outcome: string): string {
  return OUTCOMES[outcome] ?? outcome.replace(/_/g, ' ');
}

/** Outcomes that mean the push service or the network failed us (not a subscription that ended). */
export const FAILED_OUTCOMES: readonly string[] = ['retry', 'given_up', 'refused', 'paused'];

const FAILURE_CLASSES: Readonly<Record<string, string>> = {
  retry: 'it will be tried again',
  gone: 'the push service said the subscription no longer exists',
  refused: 'the push service refused it',
  given_up: 'Herald gave up on that delivery',
  'give-up': 'Herald gave up on that delivery',
  'auth-failed': 'the push service refused Herald’s signature',
};

export function failureClass(value: string): string {
  return FAILURE_CLASSES[value] ?? value.replace(/[_-]/g, ' ');
}

const ALERTS: Readonly<Record<string, string>> = {
  mention: 'mentions',
  status: 'new posts',
  reblog: 'boosts',
  follow: 'new followers',
  follow_request: 'follow requests',
  favourite: 'favourites',
  poll: 'poll results',
  update: 'edits',
  quote: 'quotes',
  quoted_update: 'edits of quoted posts',
  'admin.sign_up': 'sign-ups',
  'admin.report': 'reports',
};

export function alertName(key: string): string {
  return ALERTS[key] ?? key.replace(/[._]/g, ' ');
}

const POLICIES: Readonly<Record<string, string>> = {
  all: 'from anyone',
  followed: 'only from accounts the user follows',
  follower: 'only from the user’s followers',
  none: 'from no one',
};

export function policyName(policy: string): string {
  return POLICIES[policy] ?? `with policy “${policy}”`;
}

/** "a, b and c". */
export function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
