// What clients read to find their way (SPEC §10): instance descriptions and the token's own account.
import type { FastifyPluginAsync } from 'fastify';
import { notFound } from '../../domain/errors.js';
import { findAccount } from '../../store/accounts.js';
import { callerOf } from '../auth.js';
import type { RouteOptions } from '../build-app.js';
import { serverKeyOf } from '../serializers/web-push-subscription.js';

const VERSION = '4.6.0 (compatible; Herald 0.1.0)';
const MASTODON_API_VERSION = 7;
const SOURCE_URL = 'https://example.invalid/herald';

const STATUS_LIMITS = { max_characters: 500, max_media_attachments: 4, characters_reserved_per_url: 23 };
const MEDIA_LIMITS = {
  supported_mime_types: [],
  image_size_limit: 16_777_216,
  image_matrix_limit: 33_177_600,
  video_size_limit: 103_809_024,
  video_frame_rate_limit: 120,
  video_matrix_limit: 8_294_400,
};
const POLL_LIMITS = { max_options: 4, max_characters_per_option: 50, min_expiration: 300, max_expiration: 2_629_746 };

export const instanceRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const base = new URL(deps.config.publicUrl);
  const streaming = `${base.protocol === 'https:' ? 'wss' : 'ws'}://${base.host}`;
  const domain = base.host;
  // Both instance entities require a contact email (format email); Herald has no setting for one, and
  // RFC 2142 makes postmaster@ the address every mail domain must answer.
  const email = `postmaster@${base.hostname}`;
  // SPEC §10: the same string as every subscription's server_key (padded), which clients compare.
  const vapid = { public_key: serverKeyOf(deps.vapidPublicKey) };
  const common = { title: 'Herald', description: 'Mastodon-compatible notifications and Web Push', languages: ['en'], rules: [] };

  app.get('/api/v2/instance', async () => ({
    domain,
    ...common,
    version: VERSION,
    source_url: SOURCE_URL,
    usage: { users: { active_month: 0 } },
    thumbnail: { url: `${deps.config.publicUrl}/thumbnail.png` },
    icon: [],
    configuration: {
      urls: { streaming, status: null },
      vapid,
      accounts: { max_featured_tags: 10, max_pinned_statuses: 5 },
      statuses: STATUS_LIMITS,
      media_attachments: MEDIA_LIMITS,
      polls: POLL_LIMITS,
      translation: { enabled: false },
      limits: { notifications: { max: 80, default: 40 } },
    },
    registrations: { enabled: false, approval_required: false, message: null },
    api_versions: { mastodon: MASTODON_API_VERSION },
    contact: { email, account: null },
  }));

  app.get('/api/v1/instance', async () => ({
    uri: domain,
    ...common,
    short_description: common.description,
    email,
    version: VERSION,
    urls: { streaming_api: streaming },
    stats: { user_count: 0, status_count: 0, domain_count: 0 },
    thumbnail: null,
    registrations: false,
    approval_required: false,
    invites_enabled: false,
    configuration: {
      accounts: { max_featured_tags: 10 },
      statuses: STATUS_LIMITS,
      media_attachments: MEDIA_LIMITS,
      polls: POLL_LIMITS,
      vapid,
    },
    contact_account: null,
    api_versions: { mastodon: MASTODON_API_VERSION },
  }));

  app.get(
    '/api/v1/accounts/verify_credentials',
    { config: { scopes: ['read', 'read:accounts', 'profile'] } },
    async (request) => {
      const row = await findAccount(deps.store.db, callerOf(request).accountId);
      if (!row) throw notFound();
      const account = JSON.parse(row.json) as Record<string, unknown>;
      return {
        ...account,
        source: {
          privacy: 'public',
          sensitive: false,
          // The default posting language is an ISO 639-1 code; the push locale may carry a region (pt-BR).
          language: row.locale ? row.locale.split(/[-_]/)[0].toLowerCase() : null,
          note: typeof account.note === 'string' ? account.note : '',
          fields: [],
          follow_requests_count: 0,
          indexable: account.indexable === true,
          discoverable: typeof account.discoverable === 'boolean' ? account.discoverable : null,
        },
        role: { id: '-99', name: '', permissions: '0', color: '', highlighted: false },
      };
    },
  );
};
