/// <reference lib="dom" />
// One account's push diagnosis (SPEC §14): Herald's own findings first, then each subscription and each
// removal of the last 7 days in plain words, the raw fields one click below.
import type { AccountDiagnosis, Removal, Subscription } from './admin-api.js';
import type { Finding } from './findings.js';
import { alertName, clock, count, exactTime, failureClass, failureStatus, host, list, policyName } from './words.js';

export function accountFindings(d: AccountDiagnosis, now: number): { findings: Finding[]; subscriptions: Finding[]; removed: Finding[] } {
  return {
    findings: d.findings.map((f, i) => ({ key: `account ${d.account_id} finding ${i}`, level: f.level, topic: '', text: f.text })),
    subscriptions: d.subscriptions.map((s) => subscriptionFinding(s, now)),
    removed: d.removed.map((r) => removalFinding(r, now)),
  };
}

function subscriptionFinding(s: Subscription, now: number): Finding {
  const alerts = Object.entries(s.alerts)
    .filter(([, on]) => on)
    .map(([key]) => alertName(key));
  const failure = s.last_failure;
  const failedLast = failure !== null && (s.last_success_at === null || Date.parse(failure.at) >= Date.parse(s.last_success_at));
  let state: string;
  if (failedLast && failure) {
    state =
      `The last push failed at ${clock(failure.at, now)} with ${failureStatus(failure.status)}: ${failureClass(failure.class)}. ` +
      (s.consecutive_failures > 1 ? `That is ${s.consecutive_failures} failures in a row; ` : '') +
      (s.last_success_at ? `the last push that arrived was at ${clock(s.last_success_at, now)}.` : 'no push has arrived yet.');
  } else if (s.last_success_at) {
    state = `The last push arrived at ${clock(s.last_success_at, now)}${failure ? `; the last failure was before that, at ${clock(failure.at, now)}` : ''}.`;
  } else {
    state = 'Nothing has been pushed to it yet.';
  }
  const pending = s.pending_deliveries ? `${count(s.pending_deliveries, 'push is', 'pushes are')} waiting to be sent to it.` : 'Nothing is waiting to be sent to it.';
  const receives = alerts.length
    ? `It receives ${list(alerts)}, ${policyName(s.policy)}.`
    : 'Every alert is switched off, so nothing is pushed to it: the app must turn some on.';
  return {
    key: `subscription ${s.id}`,
    level: failedLast || alerts.length === 0 ? 'warning' : 'ok',
    topic: `Subscription ${s.id} at ${host(s.origin)}`,
    text: state,
    more: [pending, receives],
    numbers: [
      {
        head: ['Field', 'Value'],
        rows: [
          ['Subscription', s.id],
          ['Token', s.token_id],
          ['Push service', host(s.origin)],
          ['Encoding', s.encoding],
          ['Created', exactTime(s.created_at)],
          ['Last success', s.last_success_at ? exactTime(s.last_success_at) : 'never'],
          ['Last failure', failure ? `${exactTime(failure.at)}, ${failure.status}, ${failure.class}` : 'none'],
          ['Failures in a row', s.consecutive_failures],
          ['Pending deliveries', s.pending_deliveries],
          ['Policy', s.policy],
          ['Alerts on', Object.keys(s.alerts).filter((k) => s.alerts[k]).join(', ') || 'none'],
          ['Alerts off', Object.keys(s.alerts).filter((k) => !s.alerts[k]).join(', ') || 'none'],
        ],
      },
    ],
  };
}

function removalFinding(r: Removal, now: number): Finding {
  return {
    key: `removed ${r.id}`,
    level: 'removed',
    topic: `Subscription ${r.id} at ${host(r.origin)}, removed at ${clock(r.removed_at, now)}`,
    // The server's explanation is a clause for after "because"; a full sentence is shown as it is.
    text: /^[a-z]/.test(r.explanation) ? `Removed because ${r.explanation}` : r.explanation,
    numbers: [
      {
        head: ['Field', 'Value'],
        rows: [
          ['Subscription', r.id],
          ['Push service', host(r.origin)],
          ['Removed', exactTime(r.removed_at)],
          ['Reason', r.reason],
          ['Detail', r.detail ?? '—'],
        ],
      },
    ],
  };
}
