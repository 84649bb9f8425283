// Notification policy (v1 and v2) and notification requests (SPEC §7). The fixed request paths
// (`merged`, `accept`, `dismiss`) are static, so the router prefers them to `/requests/:id`.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { buildLinkHeader, pickFilters } from '../../domain/pagination.js';
import { readPageQuery } from '../../domain/params.js';
import { applyPolicyUpdate, applyV1PolicyUpdate } from '../../domain/policy-params.js';
import { isObject, type JsonObject } from '../../domain/records.js';
import {
  acceptRequests,
  changePolicy,
  dismissRequests,
  listRequestPage,
  readPolicy,
  readRequestIds,
  showRequest,
} from '../../services/notification-filtering.js';
import { callerOf, READ_NOTIFICATIONS, WRITE_NOTIFICATIONS } from '../auth.js';
import type { RouteOptions } from '../build-app.js';
import { serializePolicy, serializeRequest, serializeV1Policy } from '../serializers/notification-filtering.js';
import { sendJson } from './notifications-v1.js';

const read = { config: { scopes: READ_NOTIFICATIONS } };
const write = { config: { scopes: WRITE_NOTIFICATIONS } };

/** Parameters from the body (JSON or form) with the query string as a fallback, as Rails merges them. */
function paramsOf(request: FastifyRequest): JsonObject {
  const query = isObject(request.query) ? request.query : {};
  return { ...query, ...(isObject(request.body) ? request.body : {}) };
}

const idOf = (request: FastifyRequest): unknown => (request.params as { id: string }).id;

export const notificationFilteringRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const db = deps.store.db;
  const filtering = { db, bus: deps.bus, now: deps.now };
  const requestsUrl = `${deps.config.publicUrl}/api/v1/notifications/requests`;

  app.get('/api/v2/notifications/policy', read, async (request) => serializePolicy(await readPolicy(db, callerOf(request).accountId)));
  // Clients use both verbs (masto.js PUTs, Mastodon's web app PATCHes).
  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/api/v2/notifications/policy',
      ...write,
      handler: async (request) => {
        const params = paramsOf(request);
        const view = await changePolicy(db, callerOf(request).accountId, (p) => applyPolicyUpdate(p, params), deps.now());
        return serializePolicy(view);
      },
    });
    app.route({
      method,
      url: '/api/v1/notifications/policy',
      ...write,
      handler: async (request) => {
        const params = paramsOf(request);
        const view = await changePolicy(db, callerOf(request).accountId, (p) => applyV1PolicyUpdate(p, params), deps.now());
        return serializeV1Policy(view);
      },
    });
  }
  app.get('/api/v1/notifications/policy', read, async (request) => serializeV1Policy(await readPolicy(db, callerOf(request).accountId)));

  app.get('/api/v1/notifications/requests', read, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const page = readPageQuery(query, 40, 80);
    const { rows, statuses } = await listRequestPage(db, callerOf(request).accountId, page);
    const link = buildLinkHeader({
      url: requestsUrl,
      filters: pickFilters(query, ['limit']),
      newest: rows[0]?.id,
      oldest: rows[rows.length - 1]?.id,
      full: rows.length === page.limit,
    });
    if (link) reply.header('Link', link);
    return sendJson(reply, `[${rows.map((r) => serializeRequest(r, statuses)).join(',')}]`);
  });

  // Accepting is synchronous here, so merging is always done by the time anyone asks.
  app.get('/api/v1/notifications/requests/merged', read, async () => ({ merged: true }));

  app.post('/api/v1/notifications/requests/accept', write, async (request) => {
    await acceptRequests(filtering, callerOf(request).accountId, readRequestIds(paramsOf(request).id), false);
    return {};
  });

  app.post('/api/v1/notifications/requests/dismiss', write, async (request) => {
    await dismissRequests(db, callerOf(request).accountId, readRequestIds(paramsOf(request).id), false);
    return {};
  });

  app.get('/api/v1/notifications/requests/:id', read, async (request, reply) => {
    const { rows, statuses } = await showRequest(db, callerOf(request).accountId, idOf(request));
    return sendJson(reply, serializeRequest(rows[0], statuses));
  });

  app.post('/api/v1/notifications/requests/:id/accept', write, async (request) => {
    await acceptRequests(filtering, callerOf(request).accountId, readRequestIds(idOf(request)), true);
    return {};
  });

  app.post('/api/v1/notifications/requests/:id/dismiss', write, async (request) => {
    await dismissRequests(db, callerOf(request).accountId, readRequestIds(idOf(request)), true);
    return {};
  });
};
