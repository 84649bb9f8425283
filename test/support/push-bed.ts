// A test app plus everything the delivery side needs, with the pieces exposed: a local push receiver, a
// VAPID signer on the test clock, the real sender, and a `drain()` that claims and handles due
// deliveries step by step, so retries and timings are driven by moving the clock, not by waiting.
import { Registry } from 'prom-client';
import { generateVapidKeys, type VapidKeyPair } from '../../src/push/keys.js';
import { parseAllowList } from '../../src/push/private-address.js';
import { createPushSender, type PushSender, type PushSenderOptions } from '../../src/push/sender.js';
import { createVapidSigner, type VapidSigner } from '../../src/push/vapid.js';
import { createDeliveryHandler, type AttemptResult, type DeliveryHandlerDeps } from '../../src/queue/delivery-handler.js';
import { createDeliveryMetrics } from '../../src/queue/delivery-metrics.js';
import { createDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from '../../src/queue/delivery-worker.js';
import { createOriginBreaker, type OriginBreaker } from '../../src/queue/origin-breaker.js';
import { loadPushSecrets, type PushSecrets } from '../../src/services/push-secrets.js';
import { claimDueDeliveries, type DeliveryRow } from '../../src/store/deliveries.js';
import { createBrowser, startPushReceiver, type BrowserSubscription, type PushReceiver } from './push-receiver.js';
import { createTestApp, PUBLIC_URL, type Engine, type TestApp } from './test-app.js';

export const SUBJECT = 'mailto:ops@herald.test';
export const RETRY_BASE_MS = 1000;

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly details: object;
  readonly message: string;
}

export interface PushBed {
  readonly t: TestApp;
  readonly receiver: PushReceiver;
  readonly vapidKeys: VapidKeyPair;
  readonly signer: VapidSigner;
  readonly secrets: PushSecrets;
  readonly sender: PushSender;
  readonly breaker: OriginBreaker;
  readonly registry: Registry;
  readonly logs: LogLine[];
  readonly logger: { info(d: object, m: string): void; warn(d: object, m: string): void; error(d: object, m: string): void };
  /** A new push-scoped token for account 1 and a subscription for it at `path` on the receiver. */
  subscribe(
    path: string,
    options?: { standard?: boolean; alerts?: Record<string, boolean>; policy?: string; base?: string },
  ): Promise<BrowserSubscription & { token: string; id: number }>;
  /** Claims what is due now and handles it; repeats while something was due (bounded). */
  drain(): Promise<AttemptResult[]>;
  claim(): Promise<DeliveryRow[]>;
  handle(row: DeliveryRow): Promise<AttemptResult>;
  deliveries(): Promise<DeliveryRow[]>;
  /** A full worker (runner, bus wake-up) on this bed. */
  worker(options?: Partial<DeliveryWorkerOptions>): DeliveryWorker;
  close(): Promise<void>;
}

export async function createPushBed(
  engine: Engine,
  options: {
    sender?: Partial<PushSenderOptions>;
    allowPrivate?: string;
    /** More settings for the app (host token sources, say). */
    env?: Record<string, string>;
    /** Handler dependencies to add or replace (the token re-check, say), made from the bed's app. */
    handler?: (t: TestApp) => Partial<DeliveryHandlerDeps>;
  } = {},
): Promise<PushBed> {
  const allowPrivate = options.allowPrivate ?? '127.0.0.1';
  const t = await createTestApp(engine, { env: { HERALD_PUSH_ALLOW_PRIVATE: allowPrivate, ...options.env } });
  t.clock.now = Date.now();
  await t.account('1', { display_name: 'Bob', locale: 'en' });
  await t.account('2', { display_name: 'Alice', avatar_static: 'https://social.test/alice.png' });
  await t.status('10', { author: '1', content: '<p>Hello <b>world</b> &amp; all</p>' });
  const receiver = await startPushReceiver();
  const vapidKeys = generateVapidKeys();
  const now = () => t.clock.now;
  const signer = createVapidSigner({ ...vapidKeys, subject: SUBJECT, now });
  const secrets = await loadPushSecrets(t.store.db);
  const sender = createPushSender({ allowList: parseAllowList(allowPrivate), ...options.sender });
  const breaker = createOriginBreaker(t.store);
  const registry = new Registry();
  const metrics = createDeliveryMetrics(registry);
  const logs: LogLine[] = [];
  const logger = {
    info: (details: object, message: string) => logs.push({ level: 'info', details, message }),
    warn: (details: object, message: string) => logs.push({ level: 'warn', details, message }),
    error: (details: object, message: string) => logs.push({ level: 'error', details, message }),
  };
  const common = {
    vapid: signer,
    secrets,
    publicUrl: PUBLIC_URL,
    now,
    sender,
    metrics,
    logger,
    retryBaseMs: RETRY_BASE_MS,
    random: () => 0.5,
  };
  const handle = createDeliveryHandler({ ...common, db: t.store.db, breaker, ...options.handler?.(t) });
  const claim = () => claimDueDeliveries(t.store.db, t.store.dialect, { now: t.clock.now, leaseMs: 60_000, limit: 100 });
  const workers: DeliveryWorker[] = [];

  return {
    t,
    receiver,
    vapidKeys,
    signer,
    secrets,
    sender,
    breaker,
    registry,
    logs,
    logger,
    async subscribe(path, { standard = true, alerts = { mention: true, favourite: true, follow: true }, policy, base } = {}) {
      const token = await t.token('1', 'push');
      const browser = createBrowser(base ?? receiver.url, path, receiver.received);
      const res = await t.client(token, 'POST', '/api/v1/push/subscription', {
        subscription: { endpoint: browser.endpoint, keys: browser.keys, standard },
        data: { alerts, ...(policy ? { policy } : {}) },
      });
      if (res.statusCode !== 200) throw new Error(`subscribe failed: ${res.statusCode} ${res.body}`);
      return { ...browser, token, id: res.json().id as number };
    },
    async drain() {
      const results: AttemptResult[] = [];
      for (let round = 0; round < 20; round++) {
        const rows = await claim();
        if (rows.length === 0) break;
        results.push(...(await Promise.all(rows.map(handle))));
      }
      return results;
    },
    claim,
    handle,
    deliveries: () => t.store.db.selectFrom('deliveries').selectAll().orderBy('id').execute(),
    worker(overrides = {}) {
      const worker = createDeliveryWorker({ ...common, store: t.store, bus: t.bus, breaker, ...overrides });
      workers.push(worker);
      return worker;
    },
    async close() {
      for (const worker of workers) await worker.stop(1000);
      await sender.close();
      await receiver.close();
      await t.close();
    },
  };
}
