// v2 grouped notifications (SPEC §6). `unread_count` is a static path, so the router prefers it to
// `/:group_key`; group keys may hold dots (`admin.sign_up-483920`), which a path parameter takes as is.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { readExpandAccounts } from '../../domain/grouped-accounts.js';
import { readGroupedTypes } from '../../domain/grouping.js';
import { readListingFilter } from '../../domain/notification-filter.js';
import { buildLinkHeader, pickFilters } from '../../domain/pagination.js';
import { parseLimit, readPageQuery, stringArray } from '../../domain/params.js';
import {
  dismissGroup,
  listGroupAccounts,
  listGroupedPage,
  showGroup,
  unreadGroupCount,
} from '../../services/grouped-notifications.js';
import { callerOf, READ_NOTIFICATIONS, WRITE_NOTIFICATIONS } from '../auth.js';
import type { RouteOptions } from '../build-app.js';
import { serializeGroupAccounts, serializeGroupedResults } from '../serializers/notification-group.js';
import { pageKey, sendJson } from './notifications-v1.js';

const LINK_FILTERS = ['exclude_types', 'grouped_types', 'include_filtered', 'limit', 'supported_types', 'types'];
const read = { config: { scopes: READ_NOTIFICATIONS } };
const write = { config: { scopes: WRITE_NOTIFICATIONS } };

type Query = Record<string, unknown>;

const groupKeyOf = (request: FastifyRequest): string => (request.params as { group_key: string }).group_key;

export const notificationRoutesV2: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const db = deps.store.db;
  const url = `${deps.config.publicUrl}/api/v2/notifications`;
  const pages = deps.pages!;
  // A page kept in the page cache is checked against the version read with the caller's token.
  const listing = { config: { ...read.config, pageVersion: pages.enabled } };

  app.get('/api/v2/notifications', listing, async (request, reply) => {
    const query = request.query as Query;
    const expand = readExpandAccounts(query.expand_accounts);
    const page = readPageQuery(query, 40, 80);
    // v2 ignores account_id (Mastodon does too).
    const filter = readListingFilter(query, { allowAccount: false });
    const groupedTypes = readGroupedTypes(query.grouped_types);
    const caller = callerOf(request);
    const accountId = caller.accountId;
    return pages.serve(db, caller, pageKey(accountId, request), reply, async () => {
      const result = await listGroupedPage(deps.store, accountId, filter, page, groupedTypes);
      const groups = result.groups;
      const link = buildLinkHeader({
        url,
        filters: pickFilters(query, LINK_FILTERS),
        newest: groups[0]?.representative.id,
        oldest: groups[groups.length - 1]?.representative.id,
        full: groups.length === page.limit,
      });
      return { body: serializeGroupedResults(result, expand), link };
    });
  });

  app.get('/api/v2/notifications/unread_count', read, async (request) => {
    const query = request.query as Query;
    const cap = parseLimit(query.limit, 100, 1000);
    const filter = readListingFilter(query, { allowAccount: false });
    return { count: await unreadGroupCount(db, callerOf(request).accountId, filter, readGroupedTypes(query.grouped_types), cap) };
  });

  app.get('/api/v2/notifications/:group_key', read, async (request, reply) => {
    const query = request.query as Query;
    const expand = readExpandAccounts(query.expand_accounts);
    const supported = stringArray(query.supported_types);
    const result = await showGroup(deps.store, callerOf(request).accountId, groupKeyOf(request), supported ? new Set(supported) : undefined);
    return sendJson(reply, serializeGroupedResults(result, expand));
  });

  app.get('/api/v2/notifications/:group_key/accounts', read, async (request, reply) => {
    const query = request.query as Query;
    const page = readPageQuery(query, 40, 80);
    const groupKey = groupKeyOf(request);
    const rows = await listGroupAccounts(db, callerOf(request).accountId, groupKey, page);
    const link = buildLinkHeader({
      url: `${url}/${encodeURIComponent(groupKey)}/accounts`,
      filters: pickFilters(query, ['limit']),
      newest: rows[0]?.id,
      oldest: rows[rows.length - 1]?.id,
      full: rows.length === page.limit,
    });
    if (link) reply.header('Link', link);
    return sendJson(reply, serializeGroupAccounts(rows));
  });

  // Always 200 {}: dismissing a group that is already gone is not an error (Mastodon does the same).
  app.post('/api/v2/notifications/:group_key/dismiss', write, async (request) => {
    await dismissGroup(db, callerOf(request).accountId, groupKeyOf(request));
    return {};
  });
};
