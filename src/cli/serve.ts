// `herald serve|web|worker`: start the pieces, and stop them cleanly on SIGINT/SIGTERM.
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { ConfigError, type Config } from '../config.js';
import pino from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { buildApp } from '../http/build-app.js';
import { registerHttpMetrics } from '../http/metrics.js';
import { registerHealthRoutes } from '../http/routes/health.js';
import { createPushSender } from '../push/sender.js';
import { createDeliveryMetrics, registerDeliveryQueueMetrics } from '../queue/delivery-metrics.js';
import { createEncryptionPool } from '../push/encryption-pool.js';
import { createDeliveryWorker, type DeliveryWorker } from '../queue/delivery-worker.js';
import { createLocalBus, type NotificationBus } from '../services/notification-bus.js';
import { loadPushSecrets } from '../services/push-secrets.js';
import { createConfiguredSigner, parseConfiguredAllowList, resolveVapidSubject } from '../services/push-vapid.js';
import { loadAdminToken, loadVapidKeys } from '../services/secrets.js';
import { createPostgresBus } from '../stream/postgres-bus.js';
import { deliveryQueueStats } from '../store/deliveries.js';
import { migrateToLatest } from '../store/migrations.js';
import { openStore, type Store } from '../store/open-store.js';
import { createTokenResolver } from '../auth/token-resolver.js';
import { createPushTokenRecheck } from '../auth/push-token-recheck.js';
import { startTokenPruning } from '../auth/token-pruning.js';
import { startHeartbeat } from '../services/heartbeat.js';
import { createProcessActivity } from '../services/process-activity.js';

/** SPEC §15: in-flight requests and sends get this long on shutdown; unfinished deliveries go back to the queue. */
const SHUTDOWN_GRACE_MS = 10_000;

export async function serve(config: Config, roles: { web: boolean; worker: boolean }): Promise<number> {
  // Files Herald writes (the SQLite store with the VAPID private key, the admin token) are its own (SPEC §15).
  process.umask(0o077);
  const logger = pino({ level: config.logLevel });
  // Settings first: a bad one stops start-up before anything is opened (SPEC §8.3).
  const subject = resolveVapidSubject(config);
  if (subject.warning) logger.warn(subject.warning);
  const allowList = parseConfiguredAllowList(config);

  const store = openStore(config);
  const closers: (() => Promise<void>)[] = [() => store.close()];
  // What finishes its work on shutdown (the web side, the worker): all at once, within the grace.
  const drains: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(drains.map((drain) => drain().catch((err: unknown) => logger.error({ err }, 'error while shutting down'))));
    drains.length = 0;
    for (const close of closers.reverse()) await close().catch((err: unknown) => logger.error({ err }, 'error while shutting down'));
  };
  let startWorker = (): void => {};
  const activity = createProcessActivity(Date.now());
  try {
    await checkDatabase(store, config);
    const applied = await migrateToLatest(store.db, store.dialect);
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    const admin = loadAdminToken(config);
    if (admin.created) {
      // Printed once, on the terminal that started Herald: the host platform needs it for the admin API.
      console.log(`Admin token (saved in ${config.dataDir}/admin-token): ${admin.token}`);
    }
    const vapid = await loadVapidKeys(config, store.db);
    if (vapid.created) logger.info({ publicKey: vapid.publicKey }, 'generated a VAPID key pair and stored it');
    // Parsing the pair here checks it in every role, before a single push is signed with it.
    const signer = createConfiguredSigner(vapid, subject.subject, Date.now);
    const pushSecrets = await loadPushSecrets(store.db);

    const local = createLocalBus();
    let bus: NotificationBus = local;
    if (config.databaseUrl) {
      // Web and worker may be different processes: commits in one must wake the workers of the others.
      const shared = await createPostgresBus(config.databaseUrl, local);
      closers.push(() => shared.close());
      bus = shared;
    }

    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // One resolver per process: the client API asks it who a bearer is, the worker re-checks push tokens with it.
    const tokens = createTokenResolver({
      db: store.db,
      now: Date.now,
      auth: config.auth,
      bus,
      metrics: registry,
      onUnavailable: (error) => logger.warn({ reason: error.detail }, 'token source unavailable; answering 503'),
    });
    closers.push(() => tokens.close());
    if (tokens.preload) {
      await tokens.preload().catch((err: unknown) =>
        logger.warn({ err }, `cannot fetch the key set at HERALD_AUTH_JWKS_URL (${config.auth.jwt?.jwksUrl}) yet; JWTs get 503 until it answers`),
      );
    }
    let worker: DeliveryWorker | undefined;
    registerDeliveryQueueMetrics(registry, {
      stats: () => deliveryQueueStats(store.db, Date.now()),
      now: Date.now,
      pausedOrigins: () => worker?.breaker.pausedOrigins(Date.now()) ?? [],
    });

    if (roles.worker) {
      const sender = createPushSender({ allowList });
      closers.push(() => sender.close());
      const workerLogger = logger.child({ role: 'worker' });
      const encryption = createEncryptionPool(config.pushThreads, {
        onFailure: (err) => workerLogger.error({ err }, 'an encryption thread failed; its pushes are encrypted on the main thread'),
      });
      closers.push(() => encryption.close());
      worker = createDeliveryWorker({
        store,
        bus,
        sender,
        vapid: signer,
        encrypt: encryption.encrypt,
        secrets: pushSecrets,
        publicUrl: config.publicUrl,
        now: Date.now,
        metrics: createDeliveryMetrics(registry),
        logger: workerLogger,
        retryBaseMs: config.pushRetryBaseMs,
        leaseMs: config.pushLeaseMs,
        recheckToken: createPushTokenRecheck({ db: store.db, now: Date.now, tokens, recheckSeconds: config.auth.recheckSeconds }),
      });
      const running = worker;
      // Started once the web side listens: a start-up that fails on its port has claimed nothing.
      startWorker = () => {
        running.start();
        const stopPruning = startTokenPruning({
          db: store.db,
          now: Date.now,
          onPruned: (pruned) => workerLogger.info({ pruned }, 'pruned expired external token rows'),
          onError: (err) => workerLogger.error({ err }, 'pruning external token rows failed'),
        });
        closers.push(async () => stopPruning());
        drains.push(() => running.stop(SHUTDOWN_GRACE_MS));
        logger.info({ database: store.dialect }, 'delivery worker started');
      };
    }

    if (roles.web) {
      const app = await buildApp({
        config,
        store,
        bus,
        now: Date.now,
        adminToken: admin.token,
        vapidPublicKey: vapid.publicKey,
        logger: { level: config.logLevel },
        pushSecrets,
        pushAllowList: allowList,
        metricsRegistry: registry,
        tokens,
        activity,
      });
      drains.push(() => closeWithin(app, SHUTDOWN_GRACE_MS));
      await listenOrExplain(app, config);
      logger.info({ url: config.publicUrl, database: store.dialect }, 'herald is listening');
    } else {
      await listenForProbes(config, store, registry, logger, closers);
    }
    startWorker();
    const stopBeating = await startHeartbeat({
      db: store.db,
      activity,
      role: roles.web && roles.worker ? 'serve' : roles.web ? 'web' : 'worker',
      now: Date.now,
      onError: (err) => logger.error({ err }, 'recording the heartbeat failed'),
    });
    closers.push(stopBeating);
  } catch (error) {
    await closeAll();
    throw error;
  }

  // Timers of the worker are unref'd: without this, a worker-only process with nothing listening would
  // end as soon as it started.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const stopping = Date.now();
  logger.info({ signal }, 'shutting down');
  // The worker stops claiming and returns what it could not finish while the web side closes its streams
  // and lets in-flight requests finish; then the rest closes, the store last.
  await closeAll();
  clearInterval(keepAlive);
  logger.info({ signal, ms: Date.now() - stopping }, 'stopped');
  return 0;
}

/** SPEC §15: an unreachable database names DATABASE_URL and the host, before anything else starts. */
async function checkDatabase(store: Store, config: Config): Promise<void> {
  if (!config.databaseUrl) return;
  try {
    await sql`select 1`.execute(store.db);
  } catch (error) {
    const url = new URL(config.databaseUrl);
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(
      'DATABASE_URL',
      `cannot reach PostgreSQL at ${url.hostname}:${url.port || 5432} (${reason}): check that the server runs, accepts connections from here, and that the URL's user, password and database are right`,
    );
  }
}

/** SPEC §15: a port in use names PORT and HERALD_HOST. */
async function listenOrExplain(app: FastifyInstance, config: Config): Promise<void> {
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new ConfigError('PORT', `cannot listen on ${config.host}:${config.port} (${code}): choose another PORT, or HERALD_HOST`);
    }
    throw error;
  }
}

/**
 * Stops accepting, closes streams (the streaming routes' preClose) and waits for in-flight requests; what is
 * still open after `graceMs` is cut so the process can exit.
 */
async function closeWithin(app: FastifyInstance, graceMs: number): Promise<void> {
  const force = setTimeout(() => app.server.closeAllConnections(), graceMs);
  // A keep-alive connection whose request finishes during the grace would otherwise stay open until cut.
  const idle = setInterval(() => app.server.closeIdleConnections(), 100);
  try {
    await app.close();
  } finally {
    clearTimeout(force);
    clearInterval(idle);
  }
}

/**
 * A worker-only process still answers /healthz, /readyz and /metrics (its delivery counters live only
 * here) on PORT. When the port is taken, say by a web process on the same host, the worker runs on
 * without them rather than failing.
 */
async function listenForProbes(
  config: Config,
  store: Store,
  registry: Registry,
  logger: pino.Logger,
  closers: (() => Promise<void>)[],
): Promise<void> {
  const app = Fastify({ logger: false });
  registerHttpMetrics(app, registry, config.metricsToken);
  registerHealthRoutes(app, store);
  try {
    await app.listen({ port: config.port, host: config.host });
    logger.info({ port: config.port, host: config.host }, 'worker probes and metrics listening');
    closers.push(() => app.close());
  } catch (err) {
    logger.warn({ err }, `worker: cannot listen on ${config.host}:${config.port} for /healthz and /metrics; running without them`);
    await app.close();
  }
}
