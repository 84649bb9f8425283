// v1 notifications (SPEC §4). Fixed paths are registered before `/:id` so they are never read as ids.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { readListingFilter } from '../../domain/notification-filter.js';
import { buildLinkHeader, pickFilters } from '../../domain/pagination.js';
import { parseLimit, readPageQuery, stringArray } from '../../domain/params.js';
import { isObject } from '../../domain/records.js';
import {
  clearNotifications,
  dismissNotification,
  listPage,
  showNotification,
  unreadCount,
} from '../../services/notifications.js';
import { callerOf, READ_NOTIFICATIONS, WRITE_NOTIFICATIONS } from '../auth.js';
import type { RouteOptions } from '../build-app.js';
import { serializeNotification, serializeNotifications } from '../serializers/notification.js';

const LINK_FILTERS = ['account_id', 'exclude_types', 'include_filtered', 'limit', 'supported_types', 'types'];
const read = { config: { scopes: READ_NOTIFICATIONS } };
const write = { config: { scopes: WRITE_NOTIFICATIONS } };

export const sendJson = (reply: FastifyReply, body: string): FastifyReply =>
  reply.type('application/json; charset=utf-8').send(body);

/** A listing page's cache key: the recipient, the route and the query string as sent (PageCache). */
export const pageKey = (accountId: string, request: FastifyRequest): string => {
  const at = request.url.indexOf('?');
  return `${accountId}\u0000${request.routeOptions.url}\u0000${at === -1 ? '' : request.url.slice(at + 1)}`;
};

export const notificationRoutesV1: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const db = deps.store.db;
  const url = `${deps.config.publicUrl}/api/v1/notifications`;
  const pages = deps.pages!;
  // A page kept in the page cache is checked against the version read with the caller's token.
  const listing = { config: { ...read.config, pageVersion: pages.enabled } };

  app.get('/api/v1/notifications', listing, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const page = readPageQuery(query, 40, 80);
    const filter = readListingFilter(query, { allowAccount: true });
    const caller = callerOf(request);
    const accountId = caller.accountId;
    return pages.serve(db, caller, pageKey(accountId, request), reply, async () => {
      const { rows, context } = await listPage(db, accountId, filter, page);
      const link = buildLinkHeader({
        url,
        filters: pickFilters(query, LINK_FILTERS),
        newest: rows[0]?.id,
        oldest: rows[rows.length - 1]?.id,
        full: rows.length === page.limit,
      });
      return { body: serializeNotifications(rows, context), link };
    });
  });

  app.get('/api/v1/notifications/unread_count', read, async (request) => {
    const query = request.query as Record<string, unknown>;
    const cap = parseLimit(query.limit, 100, 1000);
    const filter = readListingFilter(query, { allowAccount: true });
    return { count: await unreadCount(db, callerOf(request).accountId, filter, cap) };
  });

  app.post('/api/v1/notifications/clear', write, async (request) => {
    await clearNotifications(db, callerOf(request).accountId);
    return {};
  });

  // The original API, still used by old clients: the id comes in the body or the query.
  app.post('/api/v1/notifications/dismiss', write, async (request) => {
    const body = isObject(request.body) ? request.body : {};
    const id = body.id ?? (request.query as Record<string, unknown>).id;
    await dismissNotification(db, callerOf(request).accountId, id);
    return {};
  });

  app.get('/api/v1/notifications/:id', read, async (request, reply) => {
    const supported = stringArray((request.query as Record<string, unknown>).supported_types);
    const { rows, context } = await showNotification(
      db,
      callerOf(request).accountId,
      (request.params as { id: string }).id,
      supported ? new Set(supported) : undefined,
    );
    return sendJson(reply, serializeNotification(rows[0], context));
  });

  app.post('/api/v1/notifications/:id/dismiss', write, async (request) => {
    await dismissNotification(db, callerOf(request).accountId, (request.params as { id: string }).id);
    return {};
  });
};
