// Prometheus metrics of the delivery side (SPEC §8.7 "every outcome is counted per push-service origin
// and status class", SPEC §10 "queue depth and age, deliveries by origin and outcome, encryption time").
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DeliveryQueueStats } from '../store/deliveries.js';

/**
 * Origins come from subscribers, so a hostile one could mint endless label values; real deployments
 * talk to a handful of push services. Past this many, further origins are counted as "other".
 */
const MAX_ORIGIN_LABELS = 64;

export type DeliveryOutcomeLabel =
  | 'delivered'
  | 'retry'
  | 'gone'
  | 'given_up'
  | 'paused'
  | 'skipped'
  | 'refused';

export interface DeliveryMetrics {
  /** `status` null means no HTTP answer (network error, timeout) or nothing sent. */
  recordOutcome(origin: string, outcome: DeliveryOutcomeLabel, status: number | null, sent: boolean): void;
  observeEncryption(seconds: number): void;
  observeSend(origin: string, seconds: number): void;
  originPaused(origin: string): void;
}

export function statusClass(status: number | null, sent: boolean): string {
  if (status === null) return sent ? 'network' : 'none';
  return `${Math.floor(status / 100)}xx`;
}

export function createDeliveryMetrics(registry: Registry): DeliveryMetrics {
  const known = new Set<string>();
  const label = (origin: string): string => {
    if (known.has(origin)) return origin;
    if (known.size >= MAX_ORIGIN_LABELS) return 'other';
    known.add(origin);
    return origin;
  };
  const outcomes = new Counter({
    name: 'herald_push_deliveries_total',
    help: 'Push delivery attempts by push-service origin, outcome and HTTP status class',
    labelNames: ['origin', 'outcome', 'status_class'] as const,
    registers: [registry],
  });
  const encryption = new Histogram({
    name: 'herald_push_encryption_seconds',
    help: 'Time to build one push request: payload encryption and VAPID header',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025],
    registers: [registry],
  });
  const send = new Histogram({
    name: 'herald_push_send_seconds',
    help: 'Time from sending a push request to the push service answering, by origin',
    labelNames: ['origin'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const pauses = new Counter({
    name: 'herald_push_origin_pauses_total',
    help: 'Times an origin was paused because it refused several subscriptions with 401/403 (check the VAPID key)',
    labelNames: ['origin'] as const,
    registers: [registry],
  });
  // Each label set's child kept by a string key: prom-client hashes the labels object on every call
  // otherwise, three times a push (~2% of the main thread at the delivery benchmark's peak).
  const outcomeChildren = new Map<string, Counter.Internal>();
  const sendChildren = new Map<string, Histogram.Internal<string>>();
  return {
    recordOutcome(origin, outcome, status, sent) {
      const labels = { origin: label(origin), outcome, status_class: statusClass(status, sent) };
      const key = `${labels.origin} ${outcome} ${labels.status_class}`;
      let child = outcomeChildren.get(key);
      if (!child) outcomeChildren.set(key, (child = outcomes.labels(labels)));
      child.inc();
    },
    observeEncryption: (seconds) => encryption.observe(seconds),
    observeSend(origin, seconds) {
      const name = label(origin);
      let child = sendChildren.get(name);
      if (!child) sendChildren.set(name, (child = send.labels({ origin: name })));
      child.observe(seconds);
    },
    originPaused: (origin) => pauses.inc({ origin: label(origin) }),
  };
}

/**
 * Queue depth and age, read from the store when Prometheus scrapes (any process can report them, the
 * queue being shared), plus the origins this process has paused.
 */
export function registerDeliveryQueueMetrics(
  registry: Registry,
  source: { stats: () => Promise<DeliveryQueueStats>; now: () => number; pausedOrigins?: () => readonly string[] },
): void {
  // One query serves both gauges of a scrape.
  let cached: { at: number; stats: Promise<DeliveryQueueStats> } | null = null;
  const statsOnce = (): Promise<DeliveryQueueStats> => {
    const now = Date.now();
    if (!cached || now - cached.at > 1000) cached = { at: now, stats: source.stats() };
    return cached.stats;
  };
  new Gauge({
    name: 'herald_delivery_queue_depth',
    help: 'Push deliveries in the outbox by state: due (waiting for a worker), scheduled (waiting for a retry), leased (being sent), given_up (kept for inspection)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const stats = await statsOnce();
      this.set({ state: 'due' }, stats.due);
      this.set({ state: 'scheduled' }, stats.scheduled);
      this.set({ state: 'leased' }, stats.leased);
      this.set({ state: 'given_up' }, stats.givenUp);
    },
  });
  new Gauge({
    name: 'herald_delivery_queue_oldest_age_seconds',
    help: 'Age of the oldest push delivery not yet delivered or given up (0 when the queue is empty)',
    registers: [registry],
    async collect() {
      const { oldestCreatedAt } = await statsOnce();
      this.set(oldestCreatedAt === null ? 0 : Math.max(0, (source.now() - oldestCreatedAt) / 1000));
    },
  });
  if (source.pausedOrigins) {
    const pausedOrigins = source.pausedOrigins;
    new Gauge({
      name: 'herald_push_origins_paused',
      help: 'Push-service origins currently paused after a burst of 401/403 answers',
      registers: [registry],
      collect() {
        this.set(pausedOrigins().length);
      },
    });
  }
}
