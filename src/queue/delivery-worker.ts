// The delivery worker: the job runner over the deliveries outbox (DESIGN "Data"), woken by the
// notification bus when a commit queued pushes, and by its poll for retries and other processes' work.
import type { NotificationBus } from '../services/notification-bus.js';
import type { PushMessageDeps } from '../services/push-message.js';
import type { PushSender } from '../push/sender.js';
import { MAX_RETRIES } from '../push/backoff.js';
import {
  claimDueDeliveries,
  giveUpDelivery,
  loadDeliveryInputs,
  pruneGivenUpDeliveries,
  renewLeases,
  rescheduleDelivery,
  type DeliveryInputs,
  type DeliveryRow,
} from '../store/deliveries.js';
import type { Store } from '../store/open-store.js';
import { createDeliveryCompleter } from './delivery-completer.js';
import { createBatchDeliveryHandler, type AttemptResult, type WorkerLogger } from './delivery-handler.js';
import type { DeliveryMetrics } from './delivery-metrics.js';
import { createJobRunner } from './job-runner.js';
import { createOriginBreaker, type OriginBreaker } from './origin-breaker.js';
import type { PushTokenRecheck } from '../auth/push-token-recheck.js';
import { createDeliveryDiagnostics, type DeliveryDiagnostics } from './delivery-diagnostics.js';

export interface DeliveryWorkerOptions extends PushMessageDeps {
  readonly store: Store;
  readonly bus?: NotificationBus;
  readonly sender: PushSender;
  readonly metrics: DeliveryMetrics;
  readonly logger: WorkerLogger;
  readonly retryBaseMs: number;
  readonly breaker?: OriginBreaker;
  /** Where attempts are recorded for the console; one writing to the store unless given. */
  readonly diagnostics?: DeliveryDiagnostics;
  /** SPEC §13's re-check of introspected tokens before sending (absent when introspection is off). */
  readonly recheckToken?: PushTokenRecheck;
  readonly random?: () => number;
  /** Sends in flight at most. */
  readonly concurrency?: number;
  readonly pollIntervalMs?: number;
  /**
   * HERALD_PUSH_LEASE_MS: how long a claim holds a delivery. Renewed every third of it while the attempt runs,
   * so a dead worker's deliveries are taken over within about one lease (SPEC §16).
   */
  readonly leaseMs?: number;
  /** How long given-up rows are kept for inspection. */
  readonly keepGivenUpMs?: number;
  /** Called after each attempt (tests and the push test command watch outcomes). */
  readonly onAttempt?: (delivery: DeliveryRow, result: AttemptResult) => void;
}

export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_POLL_MS = 1_000;
const KEEP_GIVEN_UP_MS = 7 * 24 * 60 * 60_000;
const PRUNE_EVERY_MS = 60 * 60_000;

export interface DeliveryWorker {
  start(): void;
  wake(): void;
  /** Stops claiming; in-flight sends get `graceMs` to finish, the rest are left to their leases. */
  stop(graceMs?: number): Promise<void>;
  readonly breaker: OriginBreaker;
  readonly inFlight: number;
}

export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { store, now, logger } = options;
  const breaker = options.breaker ?? createOriginBreaker(store);
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const keepGivenUpMs = options.keepGivenUpMs ?? KEEP_GIVEN_UP_MS;
  const diagnostics =
    options.diagnostics ?? createDeliveryDiagnostics({ db: store.db, now, onError: (error) => logger.error({ err: error }, 'recording push diagnostics failed') });
  const handle = createBatchDeliveryHandler({
    ...options,
    diagnostics,
    complete: createDeliveryCompleter(store.db),
    db: store.db,
    breaker,
    random: options.random ?? Math.random,
  });
  let lastPrune = 0;
  /** Claimed rows whose attempt has not finished: returned to the queue if shutdown cuts them off. */
  const inFlight = new Set<DeliveryRow>();

  /** A claimed delivery with what its batch loaded for it. */
  interface Job {
    readonly delivery: DeliveryRow;
    readonly inputs: DeliveryInputs;
  }

  const runner = createJobRunner<Job>({
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_MS,
    async claim(limit) {
      const at = now();
      if (at - lastPrune >= PRUNE_EVERY_MS) {
        lastPrune = at;
        const pruned = await pruneGivenUpDeliveries(store.db, at - keepGivenUpMs);
        if (pruned > 0) logger.info({ pruned }, 'pruned given-up push deliveries');
      }
      // Every worker honours every pause (SPEC §16): read them before deciding what to send.
      await breaker.refresh(at);
      const claimed = await claimDueDeliveries(store.db, store.dialect, { now: at, leaseMs, limit });
      // Subscriptions, notifications, actors and statuses for the whole claim in four queries.
      const inputs = await loadDeliveryInputs(store.db, claimed);
      return claimed.map((delivery) => ({ delivery, inputs }));
    },
    async run({ delivery, inputs }) {
      let result: AttemptResult;
      inFlight.add(delivery);
      try {
        result = await handle(delivery, inputs);
      } catch (error) {
        // An unexpected fault leaves the row to its lease, to be tried again; but a row that keeps
        // failing this way (every claim counts an attempt) must not come back forever.
        if (delivery.attempts > MAX_RETRIES) {
          const reason = `internal error: ${error instanceof Error ? error.message : String(error)}`;
          await giveUpDelivery(store.db, delivery, { now: now(), lastStatus: reason.slice(0, 500) }).catch(() => {});
        }
        throw error;
      } finally {
        inFlight.delete(delivery);
      }
      options.onAttempt?.(delivery, result);
    },
    onError(error, job) {
      // The row keeps its lease and is claimed again when it expires: nothing is lost.
      logger.error({ err: error, deliveryId: job?.delivery.id }, job ? 'push delivery failed' : 'claiming push deliveries failed');
    },
  });

  /** Renews the leases of the attempts still running; rows claimed together share a lease and one statement. */
  async function renewRunning(): Promise<void> {
    const byLease = new Map<number, DeliveryRow[]>();
    for (const delivery of inFlight) {
      const lease = Number(delivery.lease_until);
      byLease.set(lease, [...(byLease.get(lease) ?? []), delivery]);
    }
    const next = now() + leaseMs;
    for (const [lease, rows] of byLease) {
      const renewed = new Set(await renewLeases(store.db, rows.map((r) => r.id), lease, next));
      for (const row of rows) {
        if (!renewed.has(row.id)) continue;
        row.lease_until = next;
        row.next_attempt_at = next;
      }
    }
  }

  let unsubscribe: (() => void) | undefined;
  let renewal: NodeJS.Timeout | undefined;
  return {
    start() {
      unsubscribe ??= options.bus?.subscribe((event) => {
        if (event.deliveries > 0) runner.wake();
      });
      renewal ??= setInterval(() => {
        renewRunning().catch((error) => logger.error({ err: error }, 'renewing delivery leases failed'));
      }, Math.max(100, Math.floor(leaseMs / 3)));
      renewal.unref();
      runner.start();
    },
    wake: () => runner.wake(),
    async stop(graceMs) {
      unsubscribe?.();
      unsubscribe = undefined;
      await runner.stop(graceMs);
      clearInterval(renewal);
      renewal = undefined;
      await diagnostics.stop().catch((error) => logger.error({ err: error }, 'recording push diagnostics failed'));
      // SPEC §15: what did not finish within the grace goes back to the queue now, not after its lease; the
      // attempt it started does not count. A send that still completes may arrive twice (at least once).
      const unfinished = [...inFlight];
      inFlight.clear();
      await Promise.all(
        unfinished.map((delivery) =>
          rescheduleDelivery(store.db, delivery, { at: now(), lastStatus: 'returned to the queue at shutdown', attempts: delivery.attempts - 1 }),
        ),
      ).catch((error) => logger.error({ err: error }, 'returning unfinished deliveries at shutdown failed; their leases will expire'));
    },
    breaker,
    get inFlight() {
      return runner.inFlight;
    },
  };
}
