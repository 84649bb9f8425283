// Gathers what each push attempt says about its subscription and its push service (SPEC §14) and writes it
// in one batch a second, so the delivery path stays free of extra round trips. Lost at a crash: at most
// the last second of statistics, never a delivery.
import type { Db } from '../store/schema.js';
import {
  addHourlyCounts,
  hourOf,
  pruneDiagnostics,
  recordFailures,
  recordOriginErrors,
  recordSuccesses,
  type HourlyCount,
  type SubscriptionFailure,
} from '../store/push-diagnostics.js';
import type { DeliveryOutcomeLabel } from './delivery-metrics.js';

export const FLUSH_EVERY_MS = 1_000;
const PRUNE_EVERY_MS = 60 * 60_000;

export interface Attempt {
  readonly subscriptionId: number;
  readonly origin: string;
  readonly action: DeliveryOutcomeLabel;
  /** The push service's HTTP status; null for a network error. */
  readonly status: number | null;
  readonly reason?: string;
  readonly sendMs: number;
  readonly at: number;
}

export interface DeliveryDiagnostics {
  record(attempt: Attempt): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Send times go into buckets growing by a fifth: bucket b holds times up to 1.2^b ms. */
export const sendBucket = (ms: number): number => Math.max(0, Math.ceil(Math.log(Math.max(ms, 1)) / Math.log(1.2)));
export const bucketUpperMs = (bucket: number): number => Math.round(1.2 ** bucket);

export function createDeliveryDiagnostics(deps: { db: Db; now: () => number; onError: (error: unknown) => void }): DeliveryDiagnostics {
  let successes = new Map<number, number>();
  let failures = new Map<number, SubscriptionFailure>();
  let counts = new Map<string, HourlyCount>();
  let errors = new Map<string, { origin: string; at: number; status: string; detail: string }>();
  let lastPrune = 0;

  const count = (origin: string, at: number, metric: string): void => {
    const hour = hourOf(at);
    const key = `${origin} ${hour} ${metric}`;
    const current = counts.get(key);
    counts.set(key, { origin, hour, metric, count: (current?.count ?? 0) + 1 });
  };

  async function flush(): Promise<void> {
    const batch = { successes, failures, counts, errors };
    successes = new Map();
    failures = new Map();
    counts = new Map();
    errors = new Map();
    const lastSuccess = Math.max(0, ...batch.successes.values());
    if (batch.successes.size > 0) await recordSuccesses(deps.db, [...batch.successes.keys()], lastSuccess);
    await recordFailures(deps.db, [...batch.failures.values()]);
    await addHourlyCounts(deps.db, [...batch.counts.values()]);
    await recordOriginErrors(deps.db, [...batch.errors.values()]);
    const now = deps.now();
    if (now - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now;
      await pruneDiagnostics(deps.db, now);
    }
  }

  const timer = setInterval(() => flush().catch(deps.onError), FLUSH_EVERY_MS);
  timer.unref();

  return {
    record(attempt) {
      count(attempt.origin, attempt.at, `outcome:${attempt.action}`);
      count(attempt.origin, attempt.at, `send:${sendBucket(attempt.sendMs)}`);
      if (attempt.action === 'delivered') {
        successes.set(attempt.subscriptionId, attempt.at);
        failures.delete(attempt.subscriptionId);
        return;
      }
      const status = attempt.status === null ? `network: ${attempt.reason ?? 'error'}` : String(attempt.status);
      const earlier = failures.get(attempt.subscriptionId);
      const successAt = earlier ? earlier.successAt : (successes.get(attempt.subscriptionId) ?? null);
      successes.delete(attempt.subscriptionId);
      failures.set(attempt.subscriptionId, {
        id: attempt.subscriptionId,
        at: attempt.at,
        status: status.slice(0, 200),
        class: attempt.action,
        failures: (earlier?.failures ?? 0) + 1,
        successAt,
      });
      errors.set(attempt.origin, { origin: attempt.origin, at: attempt.at, status: status.slice(0, 200), detail: (attempt.reason ?? '').slice(0, 500) });
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
