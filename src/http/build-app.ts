// Builds the HTTP application from its dependencies; nothing here reads the environment or opens a store.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import { CLOSE_GOING_AWAY } from '../stream/websocket-stream.js';
import { HeraldError, notFound } from '../domain/errors.js';
import {
  answerClientError,
  closeIfBodyUnread,
  DEFAULT_TIMEOUTS,
  httpServerOptions,
  limitClientBodies,
  registerServerLimits,
  type HttpTimeouts,
} from './server-limits.js';
import { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Store } from '../store/open-store.js';
import type { NotificationBus } from '../services/notification-bus.js';
import { addToWindows, pruneWindows } from '../store/rate-limit-windows.js';
import type { ProcessActivity } from '../services/process-activity.js';
import { limitParameters, registerBodyParsers, parseQueryString } from './body-parsing.js';
import { handleError } from './error-table.js';
import { bearerToken, registerClientAuth } from './auth.js';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './rate-limit.js';
import { adminRoutes } from './routes/admin.js';
import { registerHealthRoutes } from './routes/health.js';
import { instanceRoutes } from './routes/instance.js';
import { markerRoutes } from './routes/markers.js';
import { notificationRoutesV1 } from './routes/notifications-v1.js';
import { notificationRoutesV2 } from './routes/notifications-v2.js';
import { notificationFilteringRoutes } from './routes/notification-filtering.js';
import { pushSubscriptionRoutes } from './routes/push-subscription.js';
import { pushUnsubscribeRoutes } from './routes/push-unsubscribe.js';
import { consolePage } from '../console/console-page.js';
import { registerHttpMetrics } from './metrics.js';
import { serializeRequest } from './log-redaction.js';
import type { AllowList } from '../push/private-address.js';
import { loadPushSecrets, type PushSecrets } from '../services/push-secrets.js';
import { streamingRoutes } from './routes/streaming.js';
import { createTokenResolver, type TokenResolver } from '../auth/token-resolver.js';
import { PageCache } from './page-cache.js';

export interface AppDeps {
  readonly config: Config;
  readonly store: Store;
  readonly bus: NotificationBus;
  readonly now: () => number;
  readonly adminToken: string;
  readonly vapidPublicKey: string;
  readonly rateLimits?: RateLimits | null;
  readonly logger?: FastifyServerOptions['logger'];
  /** Token sealing and Unsubscribe-URL keys; read from (or created in) the store's settings when absent. */
  readonly pushSecrets?: PushSecrets;
  /** HERALD_PUSH_ALLOW_PRIVATE parsed; parsed from the config when absent. */
  readonly pushAllowList?: AllowList;
  /** Where /metrics reads from and HTTP metrics go; a fresh registry when absent. */
  readonly metricsRegistry?: Registry;
  /** Who a bearer is (SPEC §13); built from the config's token sources when absent. */
  readonly tokens?: TokenResolver;
  /** This process's activity for its heartbeat (ingest rate, open streams). */
  readonly activity?: ProcessActivity;
  /** SPEC §15's timeouts unless given (tests shorten them). */
  readonly httpTimeouts?: HttpTimeouts;
  /** Rendered listing pages; sized from the config when absent. */
  readonly pages?: PageCache;
}

export const BODY_LIMIT = 1024 * 1024;

export async function buildApp(given: AppDeps): Promise<FastifyInstance> {
  const metricsRegistry = given.metricsRegistry ?? new Registry();
  const tokens =
    given.tokens ??
    createTokenResolver({ db: given.store.db, now: given.now, auth: given.config.auth, bus: given.bus, metrics: metricsRegistry });
  const deps: AppDeps = {
    ...given,
    metricsRegistry,
    tokens,
    pushSecrets: given.pushSecrets ?? (await loadPushSecrets(given.store.db)),
    pages: given.pages ?? new PageCache(given.config.pageCacheMb * 1024 * 1024, metricsRegistry),
  };
  const timeouts = given.httpTimeouts ?? DEFAULT_TIMEOUTS;
  const app = Fastify({
    logger: withRedaction(deps.logger),
    bodyLimit: BODY_LIMIT,
    routerOptions: { querystringParser: parseQueryString, maxParamLength: 500 },
    trustProxy: false,
    http: httpServerOptions(timeouts),
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    clientErrorHandler: answerClientError,
    // Routing errors (an over-long or badly encoded path) would otherwise get Fastify's own body, not ours;
    // on the client API a request that cannot be routed is still a 401 without a valid token (SPEC §15).
    frameworkErrors: (error, request, reply) => {
      if (!/^\/api\/v\d\//.test(request.url)) return handleError(error, request, reply);
      const plain = bearerToken(request);
      (plain === undefined ? Promise.resolve(undefined) : tokens.resolve(plain)).then(
        (row) => handleError(row ? error : new HeraldError('ERR_TOKEN_INVALID', 'The access token is invalid'), request, reply),
        (failure: unknown) => handleError(failure, request, reply),
      );
    },
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    closeIfBodyUnread(request, reply);
    reply.code(404).type('application/json; charset=utf-8').send({ error: 'Record not found' });
  });
  registerServerLimits(app, given.config.maxConnections);
  await registerBodyParsers(app);
  // At the root, so that an upgrade to any other path is answered 404 and its socket closed (SPEC §9).
  await app.register(websocket, {
    options: { maxPayload: 64 * 1024 },
    preClose(done) {
      // Streams close as a server going away (SPEC §15); the streaming routes close the ones they track.
      for (const client of this.websocketServer.clients) client.close(CLOSE_GOING_AWAY);
      this.websocketServer.close();
      done();
    },
  });
  // The plugin would upgrade on any route and then hang up; SPEC §9 wants a 404 for every other path.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.ws && !request.routeOptions.config.acceptsUpgrade) throw notFound();
    done();
  });
  await app.register(cors, {
    origin: '*',
    // SPEC §15: OPTIONS answers 204 with the CORS headers, with or without preflight headers.
    strictPreflight: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    exposedHeaders: ['Link', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'X-Request-Id'],
  });

  // A resolver made here is closed here; one passed in belongs to the caller.
  if (!given.tokens) app.addHook('onClose', () => tokens.close());
  registerHttpMetrics(app, metricsRegistry, deps.config.metricsToken);
  registerHealthRoutes(app, deps.store);
  await app.register(adminRoutes, { deps, prefix: '/api/admin/v1' });
  await app.register(pushUnsubscribeRoutes, { deps });
  await app.register(consolePage);
  await app.register(
    async (api) => {
      limitClientBodies(api);
      limitParameters(api);
      registerClientAuth(api, {
        tokens,
        now: deps.now,
        // Several web processes share PostgreSQL, and so their counts (SPEC §16); SQLite is one process.
        sharedWindows:
          deps.store.dialect === 'postgres'
            ? {
                add: (deltas) => addToWindows(deps.store.db, deltas),
                prune: (before) => pruneWindows(deps.store.db, before),
                onError: (err) => app.log.error({ err }, 'sharing rate-limit counts failed'),
              }
            : undefined,
        rateLimits: deps.rateLimits === undefined ? (deps.config.rateLimits ? DEFAULT_RATE_LIMITS : null) : deps.rateLimits,
      });
      await api.register(instanceRoutes, { deps });
      await api.register(notificationRoutesV1, { deps });
      await api.register(markerRoutes, { deps });
      await api.register(notificationRoutesV2, { deps });
      await api.register(notificationFilteringRoutes, { deps });
      await api.register(pushSubscriptionRoutes, { deps });
      await api.register(streamingRoutes, { deps });
    },
  );
  return app;
}

/** The app's logger options with secrets kept out of every request line. */
function withRedaction(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const options = logger === true ? {} : logger;
  return {
    ...options,
    serializers: { ...(options as { serializers?: object }).serializers, req: serializeRequest as never },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["sec-websocket-protocol"]'], censor: '[REDACTED]' },
  };
}

/** Route-plugin options: every plugin gets the same dependencies. */
export interface RouteOptions {
  readonly deps: AppDeps;
}
