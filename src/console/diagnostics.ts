// The console's views (SPEC §14), read from the database and shaped for the admin JSON, the /admin/ page and
// the CLI. Times are ISO strings, origins `scheme://host[:port]`.
import { activePauses } from '../store/origin-health.js';
import { findAccount } from '../store/accounts.js';
import { deliveryQueueStats } from '../store/deliveries.js';
import { listProcesses } from '../store/processes.js';
import { givenUpSince, hourlyCountsSince, hourOf, originErrors, removedSubscriptions, subscriptionsWithPending } from '../store/push-diagnostics.js';
import { KEEP_REMOVED_MS } from '../store/push-subscriptions.js';
import type { Db } from '../store/schema.js';
import { bucketUpperMs } from '../queue/delivery-diagnostics.js';
import { diagnoseAccount, explainRemoval, percentiles, type RemovalView, type SubscriptionView } from './push-diagnosis.js';

export const HERALD_VERSION = '0.1.0';
/** A process that has not beaten for this long is not listed. */
const SEEN_RECENTLY_MS = 30_000;
const DAY = 24 * 3_600_000;

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());
const originOf = (endpoint: string): string => new URL(endpoint).origin;

export async function readQueue(db: Db, now: number) {
  const stats = await deliveryQueueStats(db, now);
  const givenUp = await givenUpSince(db, now - DAY, 100);
  return {
    due: stats.due,
    scheduled: stats.scheduled,
    leased: stats.leased,
    oldest_due_age_seconds: stats.oldestCreatedAt === null ? null : Math.max(0, Math.round((now - stats.oldestCreatedAt) / 1000)),
    given_up_last_day: givenUp.map((d) => ({
      id: Number(d.id),
      subscription_id: Number(d.subscription_id),
      origin: d.endpoint ? originOf(d.endpoint) : null,
      reason: d.last_status,
      at: iso(d.given_up_at),
    })),
  };
}

export async function readStatus(db: Db, now: number) {
  const processes = await listProcesses(db, now - SEEN_RECENTLY_MS);
  const queue = await readQueue(db, now);
  const oldestStart = Math.min(...processes.map((p) => Number(p.started_at)));
  return {
    version: HERALD_VERSION,
    uptime_seconds: processes.length === 0 ? 0 : Math.round((now - oldestStart) / 1000),
    processes: processes.map((p) => ({ role: p.role, host: p.host, pid: p.pid, started_at: iso(p.started_at), last_beat: iso(p.last_beat) })),
    ingest_per_minute: processes.reduce((sum, p) => sum + Number(p.ingest_per_minute), 0),
    open_streams: processes.reduce((sum, p) => sum + Number(p.open_streams), 0),
    queue: {
      due: queue.due,
      scheduled: queue.scheduled,
      leased: queue.leased,
      given_up_last_day: queue.given_up_last_day.length,
      oldest_due_age_seconds: queue.oldest_due_age_seconds,
    },
  };
}

interface Window {
  outcomes: Record<string, number>;
  buckets: Map<number, number>;
}

export async function readOrigins(db: Db, now: number) {
  const hour = hourOf(now);
  const rows = await hourlyCountsSince(db, hour - 23);
  const [errors, pauses] = await Promise.all([originErrors(db), activePauses(db, now)]);
  const byOrigin = new Map<string, { lastHour: Window; lastDay: Window }>();
  const windowsOf = (origin: string) => {
    let w = byOrigin.get(origin);
    if (!w) byOrigin.set(origin, (w = { lastHour: { outcomes: {}, buckets: new Map() }, lastDay: { outcomes: {}, buckets: new Map() } }));
    return w;
  };
  for (const row of rows) {
    const w = windowsOf(row.origin);
    const targets = Number(row.hour) >= hour ? [w.lastHour, w.lastDay] : [w.lastDay];
    const [kind, name] = row.metric.split(':');
    for (const target of targets) {
      if (kind === 'outcome') target.outcomes[name] = (target.outcomes[name] ?? 0) + Number(row.count);
      else target.buckets.set(Number(name), (target.buckets.get(Number(name)) ?? 0) + Number(row.count));
    }
  }
  for (const e of errors) windowsOf(e.origin);
  for (const origin of pauses.keys()) windowsOf(origin);
  const view = (w: Window) => {
    const { p50, p99 } = percentiles(w.buckets, bucketUpperMs);
    return { outcomes: w.outcomes, p50_ms: p50, p99_ms: p99 };
  };
  const errorsByOrigin = new Map(errors.map((e) => [e.origin, e]));
  return {
    origins: [...byOrigin]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([origin, w]) => {
        const error = errorsByOrigin.get(origin);
        return {
          origin,
          last_hour: view(w.lastHour),
          last_day: view(w.lastDay),
          last_error: error ? { at: iso(error.at), status: error.status, text: error.detail } : null,
          paused_until: iso(pauses.get(origin)),
        };
      }),
  };
}

export async function readAccountDiagnosis(db: Db, accountId: string, now: number) {
  const [account, rows, removedRows] = await Promise.all([
    findAccount(db, accountId),
    subscriptionsWithPending(db, accountId),
    removedSubscriptions(db, accountId, now - KEEP_REMOVED_MS),
  ]);
  if (!account && rows.length === 0 && removedRows.length === 0) return undefined;
  const subscriptions: SubscriptionView[] = rows.map((s) => ({
    id: Number(s.id),
    origin: originOf(s.endpoint),
    encoding: s.standard === 1 ? 'aes128gcm' : 'aesgcm',
    alerts: parseAlerts(s.alerts),
    policy: s.policy,
    createdAt: Number(s.created_at),
    lastSuccessAt: s.last_success_at === null ? null : Number(s.last_success_at),
    lastFailure:
      s.last_failure_at === null ? null : { at: Number(s.last_failure_at), status: s.last_failure_status ?? '', class: s.last_failure_class ?? '' },
    consecutiveFailures: Number(s.consecutive_failures),
    pendingDeliveries: Number(s.pending ?? 0),
  }));
  const removed: RemovalView[] = removedRows.map((r) => ({
    id: Number(r.id),
    origin: r.origin,
    removedAt: Number(r.removed_at),
    reason: r.reason,
    detail: r.detail,
  }));
  return {
    account_id: accountId,
    subscriptions: subscriptions.map((s, i) => ({
      id: s.id,
      token_id: Number(rows[i].token_id),
      origin: s.origin,
      encoding: s.encoding,
      alerts: s.alerts,
      policy: s.policy,
      created_at: iso(s.createdAt),
      last_success_at: iso(s.lastSuccessAt),
      last_failure: s.lastFailure ? { at: iso(s.lastFailure.at), status: s.lastFailure.status, class: s.lastFailure.class } : null,
      consecutive_failures: s.consecutiveFailures,
      pending_deliveries: s.pendingDeliveries,
    })),
    removed: removed.map((r) => ({
      id: r.id,
      origin: r.origin,
      removed_at: iso(r.removedAt),
      reason: r.reason,
      detail: r.detail,
      explanation: explainRemoval(r),
    })),
    findings: diagnoseAccount(subscriptions, removed, now),
  };
}

function parseAlerts(json: string): Record<string, boolean> {
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, boolean>) : {};
  } catch {
    return {};
  }
}
