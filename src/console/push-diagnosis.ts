// "Why didn't my phone get it?" in plain words (SPEC §14), from what the store records. Pure: the views come
// in, sentences come out; the admin JSON, the page and `herald push diagnose` all say the same.

export interface SubscriptionView {
  readonly id: number;
  readonly origin: string;
  readonly encoding: 'aes128gcm' | 'aesgcm';
  readonly alerts: Record<string, boolean>;
  readonly policy: string;
  readonly createdAt: number;
  readonly lastSuccessAt: number | null;
  readonly lastFailure: { readonly at: number; readonly status: string; readonly class: string } | null;
  readonly consecutiveFailures: number;
  readonly pendingDeliveries: number;
}

export interface RemovalView {
  readonly id: number;
  readonly origin: string;
  readonly removedAt: number;
  readonly reason: string;
  readonly detail: string | null;
}

export interface Finding {
  readonly level: 'ok' | 'warning' | 'problem';
  readonly text: string;
}

const hostOf = (origin: string): string => {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
};
const time = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';

/** What a removal reason means, and what to do about it. */
export function explainRemoval(removal: Pick<RemovalView, 'reason' | 'detail'>): string {
  const status = removal.detail?.match(/^\d{3}/)?.[0];
  switch (removal.reason) {
    case 'gone':
      return status === '404'
        ? 'the push service answered 404 Not Found: it no longer knows this subscription (the app was uninstalled, or the browser or phone dropped it). The app must subscribe again.'
        : `the push service answered ${status ?? '410'} Gone: the app was uninstalled or its registration expired. The app must subscribe again.`;
    case 'refused':
      return `the push service refused it (${status ?? '401/403'}): it rejected this subscription's authorization. Other subscriptions at the same service were fine, so the subscription itself was bad; the app must subscribe again.`;
    case 'token_revoked':
      return 'its access token was revoked (the user logged out, or the platform revoked the session).';
    case 'token_inactive':
      return 'the authorization server no longer calls its access token active (it expired or was revoked there).';
    case 'unsubscribed':
      return 'the user unsubscribed through the Unsubscribe-URL link in a notification.';
    case 'replaced':
      return 'the app replaced it with a new subscription (a new POST with the same token).';
    case 'deleted_by_app':
      return 'the app deleted it (DELETE /api/v1/push/subscription).';
    default:
      return `it was removed (${removal.reason}).`;
  }
}

/** The findings for one account, most serious first. */
export function diagnoseAccount(subscriptions: readonly SubscriptionView[], removed: readonly RemovalView[], now: number): Finding[] {
  const findings: Finding[] = [];
  for (const r of removed) {
    findings.push({ level: 'problem', text: `Subscription ${r.id} at ${hostOf(r.origin)} was removed at ${time(r.removedAt)} because ${explainRemoval(r)}` });
  }
  if (subscriptions.length === 0) {
    findings.push({
      level: removed.length > 0 ? 'problem' : 'warning',
      text:
        removed.length > 0
          ? 'This account has no push subscription left: no phone or browser will get a push until the app subscribes again.'
          : 'This account has no push subscription: its apps never asked for push notifications (or were never opened since signing in).',
    });
  }
  for (const s of subscriptions) {
    const where = `Subscription ${s.id} at ${hostOf(s.origin)}`;
    const wanted = Object.entries(s.alerts).filter(([, on]) => on).map(([type]) => type);
    if (wanted.length === 0 || s.policy === 'none') {
      findings.push({ level: 'warning', text: `${where} has every alert turned off${s.policy === 'none' ? ' (policy "none")' : ''}: nothing is pushed to it until the app turns some on.` });
    }
    if (s.lastFailure && s.consecutiveFailures > 0) {
      const last = `the last attempt at ${time(s.lastFailure.at)} failed with ${s.lastFailure.status}`;
      const level = s.consecutiveFailures >= 3 ? 'problem' : 'warning';
      findings.push({
        level,
        text:
          `${where}: ${s.consecutiveFailures} attempt${s.consecutiveFailures === 1 ? '' : 's'} in a row failed; ${last}. ` +
          (s.lastFailure.class === 'paused'
            ? 'The push service refused several subscriptions at once, so Herald paused deliveries to it: check the VAPID keys and subject.'
            : 'Herald retries with growing waits and gives up after 5 retries or 48 hours; if the service stays down, pushes are late or lost.'),
      });
    }
    if (s.pendingDeliveries > 0) {
      findings.push({ level: s.pendingDeliveries > 100 ? 'problem' : 'warning', text: `${where} has ${s.pendingDeliveries} push${s.pendingDeliveries === 1 ? '' : 'es'} waiting to be sent (due now or waiting for a retry).` });
    }
    if (s.consecutiveFailures === 0 && s.pendingDeliveries === 0) {
      findings.push({
        level: 'ok',
        text: s.lastSuccessAt
          ? `${where} works: the last push arrived at the push service at ${time(s.lastSuccessAt)}.`
          : `${where} (since ${time(s.createdAt)}) has had nothing to deliver yet.`,
      });
    }
  }
  const order = { problem: 0, warning: 1, ok: 2 };
  return findings.sort((a, b) => order[a.level] - order[b.level]);
}

/** p50 and p99 from a send-time histogram (bucket → count), as the buckets' upper bounds in ms. */
export function percentiles(buckets: ReadonlyMap<number, number>, upperMs: (bucket: number) => number): { p50: number | null; p99: number | null } {
  const total = [...buckets.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return { p50: null, p99: null };
  const at = (q: number): number => {
    let seen = 0;
    for (const bucket of [...buckets.keys()].sort((a, b) => a - b)) {
      seen += buckets.get(bucket)!;
      if (seen >= q * total) return upperMs(bucket);
    }
    return upperMs(Math.max(...buckets.keys()));
  };
  return { p50: at(0.5), p99: at(0.99) };
}
