// Notification types in Mastodon 4.6 order (SPEC §3), with what each carries.
export const NOTIFICATION_TYPES = [
  'mention',
  'status',
  'reblog',
  'follow',
  'follow_request',
  'favourite',
  'poll',
  'update',
  'severed_relationships',
  'moderation_warning',
  'annual_report',
  'admin.sign_up',
  'admin.report',
  'quote',
  'quoted_update',
  'added_to_collection',
  'collection_update',
] as const;

export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

const TYPE_SET: ReadonlySet<string> = new Set(NOTIFICATION_TYPES);

export const isNotificationType = (value: unknown): value is NotificationType =>
  typeof value === 'string' && TYPE_SET.has(value);

/** The payload key each type carries besides `account` (SPEC §3). */
export type PayloadKey = 'status' | 'report' | 'event' | 'moderation_warning' | 'collection' | 'annual_report';

export const PAYLOAD_KEY: Readonly<Record<NotificationType, PayloadKey | null>> = {
  mention: 'status',
  status: 'status',
  reblog: 'status',
  follow: null,
  follow_request: null,
  favourite: 'status',
  poll: 'status',
  update: 'status',
  severed_relationships: 'event',
  moderation_warning: 'moderation_warning',
  annual_report: 'annual_report',
  'admin.sign_up': null,
  'admin.report': 'report',
  quote: 'status',
  quoted_update: 'status',
  added_to_collection: 'collection',
  collection_update: 'collection',
};

/** Types whose `account` is the recipient itself, and whose actor defaults to it (SPEC §12). */
export const SELF_ACTOR_TYPES: ReadonlySet<NotificationType> = new Set([
  'severed_relationships',
  'moderation_warning',
  'annual_report',
]);

/** Self-notifications are dropped, as in Mastodon, except these. */
export const SELF_ALLOWED_TYPES: ReadonlySet<NotificationType> = new Set([
  'poll',
  'severed_relationships',
  'moderation_warning',
  'annual_report',
]);

/** A newer event of these types replaces the older notification for the same status. */
export const REPLACING_TYPES: ReadonlySet<NotificationType> = new Set(['update', 'quoted_update', 'collection_update']);

/** Types every client knows; the others get a `fallback` when a client lists its supported types. */
export const NON_BASELINE_TYPES: ReadonlySet<NotificationType> = new Set([
  'severed_relationships',
  'moderation_warning',
  'admin.sign_up',
  'admin.report',
  'added_to_collection',
  'collection_update',
]);

/** Types that notification policies may filter (SPEC §7). */
export const FILTERABLE_TYPES: ReadonlySet<NotificationType> = new Set([
  'mention',
  'reblog',
  'follow',
  'follow_request',
  'favourite',
  'quote',
  'added_to_collection',
]);

/** Only these group (SPEC §6). */
export const GROUPABLE_TYPES: ReadonlySet<NotificationType> = new Set(['favourite', 'reblog', 'follow', 'admin.sign_up']);

/** Filtered notifications of these types gather into a notification request per actor. */
export const REQUEST_TYPES: ReadonlySet<NotificationType> = new Set(['mention', 'quote']);
