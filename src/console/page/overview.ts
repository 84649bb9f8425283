/// <reference lib="dom" />
// The overview (SPEC §14) as findings: processes, the push queue, deliveries given up, each push service,
// and traffic. Pure: the three admin answers and the server's clock in, findings out.
import type { Origin, OriginWindow, Queue, Status } from './admin-api.js';
import type { Finding } from './findings.js';
import type { NumbersTable } from './elements.js';
import { ago, clock, count, duration, FAILED_OUTCOMES, failureStatus, host, list, millis, outcomeName } from './words.js';

/** Processes beat every 5 s (src/services/heartbeat.ts); six missed beats means one has likely stopped. */
export const QUIET_AFTER_SECONDS = 30;
/** A due delivery older than this means the workers are behind. */
export const BEHIND_AFTER_SECONDS = 60;
/** Of the last hour's deliveries to one push service, this share failing (with at least 3) is worth a look. */
const FAILING_SHARE = 0.2;
/** A push service whose slowest 1% takes longer than this slows every worker down. */
const SLOW_P99_MS = 5000;

export interface Overview {
  readonly status: Status;
  readonly queue: Queue;
  readonly origins: readonly Origin[];
  /** The server's clock, ms since the epoch. */
  readonly now: number;
}

export function overviewFindings(o: Overview): Finding[] {
  return [processFinding(o), queueFinding(o), ...givenUpFindings(o), ...o.origins.map((origin) => originFinding(origin, o.now)), trafficFinding(o)];
}

const delivers = (role: string): boolean => role === 'serve' || role === 'worker';

function processFinding({ status, now }: Overview): Finding {
  const rows = status.processes.map((p) => ({ ...p, quietFor: (now - Date.parse(p.last_beat)) / 1000 }));
  const live = rows.filter((p) => p.quietFor <= QUIET_AFTER_SECONDS);
  const quiet = rows.filter((p) => p.quietFor > QUIET_AFTER_SECONDS);
  const numbers: NumbersTable[] = rows.length
    ? [
        {
          head: ['Process', 'Started', 'Last report'],
          rows: rows.map((p) => [`${p.role} on ${p.host}, pid ${p.pid}`, clock(p.started_at, now), ago(p.last_beat, now)]),
        },
      ]
    : [];
  const names = (ps: typeof rows): string => list(ps.map((p) => `${p.role} on ${p.host}`));
  const more = quiet.length
    ? [`Not heard from: ${quiet.map((p) => `${p.role} on ${p.host} (pid ${p.pid}), last report ${ago(p.last_beat, now)}`).join('; ')}. It may have stopped or lost its database.`]
    : [];
  if (!live.some((p) => delivers(p.role))) {
    return {
      key: 'processes',
      level: 'problem',
      topic: 'Processes',
      text:
        `No process is sending push notifications: no herald serve or herald worker has reported in the last ${duration(QUIET_AFTER_SECONDS)}. ` +
        'Deliveries wait in the queue until one runs; start one.',
      more: live.length ? [`Running: ${names(live)}.`, ...more] : more,
      numbers,
    };
  }
  return {
    key: 'processes',
    level: quiet.length ? 'warning' : 'ok',
    topic: 'Processes',
    text: `${count(live.length, 'process is', 'processes are')} running: ${names(live)}.`,
    more,
    numbers,
  };
}

function queueFinding({ status, queue, now }: Overview): Finding {
  const age = queue.oldest_due_age_seconds;
  const numbers: NumbersTable[] = [
    {
      head: ['Deliveries', 'Now'],
      rows: [
        ['Due to be sent', queue.due],
        ['Being sent', queue.leased],
        ['Waiting for a later retry', queue.scheduled],
        ['Oldest due waited', age === null ? '—' : duration(age)],
        ['Given up in the last day', status.queue.given_up_last_day],
      ],
    },
  ];
  const later = queue.scheduled ? ` ${count(queue.scheduled, 'delivery waits', 'deliveries wait')} for a retry later.` : '';
  const workers = status.processes.some((p) => delivers(p.role) && (now - Date.parse(p.last_beat)) / 1000 <= QUIET_AFTER_SECONDS);
  if (queue.due > 0 && age !== null && age > BEHIND_AFTER_SECONDS) {
    return {
      key: 'queue',
      level: 'problem',
      topic: 'Push queue',
      text:
        `${count(queue.due, 'delivery is', 'deliveries are')} waiting to be sent and the oldest has waited ${duration(age)}: ` +
        (workers ? 'the workers are not keeping up. Run more workers or look at the push services below.' : 'no worker is running.') +
        later,
      numbers,
    };
  }
  if (queue.due > 0 || queue.leased > 0) {
    return {
      key: 'queue',
      level: 'ok',
      topic: 'Push queue',
      text: `The queue is moving: ${count(queue.due + queue.leased, 'delivery is', 'deliveries are')} going out now${age === null ? '' : `, the oldest due for ${duration(age)}`}.${later}`,
      numbers,
    };
  }
  return { key: 'queue', level: 'ok', topic: 'Push queue', text: `The queue is empty: nothing is waiting to be sent.${later}`, numbers };
}

function givenUpFindings({ status, queue, now }: Overview): Finding[] {
  const items = queue.given_up_last_day;
  const total = Math.max(items.length, status.queue.given_up_last_day);
  if (total === 0) return [];
  const latest = [...items].sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
  return [
    {
      key: 'given-up',
      level: 'warning',
      topic: 'Given up',
      text:
        `${count(total, 'delivery was', 'deliveries were')} given up in the last day after failing again and again; those notifications never reached the phone.` +
        (latest ? ` The latest, at ${clock(latest.at, now)}${latest.origin ? ` to ${host(latest.origin)}` : ''}${latest.reason ? `: ${latest.reason}` : ''}.` : ''),
      numbers: [
        {
          head: ['When', 'Subscription', 'Push service', 'Why'],
          rows: items.map((g) => [clock(g.at, now), g.subscription_id, g.origin ? host(g.origin) : '—', g.reason ?? '—']),
        },
      ],
    },
  ];
}

const sum = (w: OriginWindow, only?: readonly string[]): number =>
  Object.entries(w.outcomes).reduce((n, [outcome, value]) => (only && !only.includes(outcome) ? n : n + value), 0);

function originFinding(origin: Origin, now: number): Finding {
  const name = host(origin.origin);
  const hour = origin.last_hour;
  const total = sum(hour);
  const failed = sum(hour, FAILED_OUTCOMES);
  const gone = hour.outcomes.gone ?? 0;
  const lastError = origin.last_error
    ? `The last error, at ${clock(origin.last_error.at, now)}, was ${failureStatus(origin.last_error.status)}${origin.last_error.text ? `: ${origin.last_error.text}` : ''}.`
    : '';
  const goneNote = gone
    ? [`${count(gone, 'subscription', 'subscriptions')} there ended in the last hour: the push service said they no longer exist (app uninstalled or registration expired). A few are normal.`]
    : [];
  const base = { key: `origin ${origin.origin}`, topic: name, numbers: [originNumbers(origin, now)] };
  const pausedUntil = origin.paused_until ? Date.parse(origin.paused_until) : NaN;
  if (pausedUntil > now) {
    return {
      ...base,
      level: 'problem',
      text: `Herald has paused sending to ${name} until ${clock(origin.paused_until ?? '', now)} because it kept failing. Deliveries there wait and go out after the pause.`,
      more: [lastError, ...goneNote].filter(Boolean),
    };
  }
  if (failed >= 3 && failed / total >= FAILING_SHARE) {
    return {
      ...base,
      level: 'warning',
      text: `${failed} of ${count(total, 'delivery', 'deliveries')} to ${name} failed in the last hour. ${lastError}`.trim(),
      more: goneNote,
    };
  }
  if (hour.p99_ms !== null && hour.p99_ms > SLOW_P99_MS) {
    return {
      ...base,
      level: 'warning',
      text: `${name} is slow: the slowest 1% of sends in the last hour took over ${millis(hour.p99_ms)}, which holds workers up.`,
      more: goneNote,
    };
  }
  const delivered = hour.outcomes.delivered ?? 0;
  const text =
    total > 0
      ? `${count(delivered, 'delivery', 'deliveries')} to ${name} in the last hour${hour.p50_ms === null ? '' : `, typically sent in ${millis(hour.p50_ms)}`}.`
      : `Nothing was sent to ${name} in the last hour; ${count(sum(origin.last_day), 'delivery', 'deliveries')} in the last day.`;
  return { ...base, level: 'ok', text, more: goneNote };
}

function originNumbers(origin: Origin, now: number): NumbersTable {
  const outcomes = [...new Set([...Object.keys(origin.last_hour.outcomes), ...Object.keys(origin.last_day.outcomes)])];
  return {
    head: ['', 'Last hour', 'Last day'],
    rows: [
      ...outcomes.map((o) => [outcomeName(o), origin.last_hour.outcomes[o] ?? 0, origin.last_day.outcomes[o] ?? 0]),
      ['Typical send (p50)', millis(origin.last_hour.p50_ms), millis(origin.last_day.p50_ms)],
      ['Slowest 1% (p99)', millis(origin.last_hour.p99_ms), millis(origin.last_day.p99_ms)],
      ['Last error', origin.last_error ? `${clock(origin.last_error.at, now)}: ${failureStatus(origin.last_error.status)}` : 'none', ''],
      ['Paused until', origin.paused_until ? clock(origin.paused_until, now) : 'not paused', ''],
    ],
  };
}

function trafficFinding({ status }: Overview): Finding {
  const ingest = status.ingest_per_minute;
  const streams = status.open_streams;
  return {
    key: 'traffic',
    level: 'ok',
    topic: 'Traffic',
    text:
      (ingest > 0 ? `About ${count(ingest, 'notification', 'notifications')} a minute ${ingest === 1 ? 'is' : 'are'} arriving` : 'No notification arrived in the last minute') +
      (streams > 0 ? `, and ${count(streams, 'streaming connection is', 'streaming connections are')} open.` : ', and no streaming connection is open.'),
    numbers: [
      {
        head: ['', 'Now'],
        rows: [
          ['Notifications a minute', ingest],
          ['Open streams', streams],
          ['Herald version', status.version],
          ['Up for', status.processes.length ? duration(status.uptime_seconds) : '—'],
        ],
      },
    ],
  };
}
