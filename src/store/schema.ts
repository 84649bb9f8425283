// Table types for Kysely. One schema for SQLite and PostgreSQL: times are epoch milliseconds, booleans
// are 0/1 integers, JSON is text, so every query reads the same on both engines.
import type { ColumnType, Generated, Kysely, Transaction } from 'kysely';

type Int = ColumnType<number, number, number>;

export interface AccountsTable {
  id: string;
  username: string;
  acct: string;
  json: string;
  locale: string | null;
  suspended: Int;
  bot: Int;
  limited: Int;
  created_at: number | null;
  updated_at: number;
}

export interface StatusesTable {
  id: string;
  account_id: string | null;
  visibility: string | null;
  json: string;
  updated_at: number;
}

export interface TokensTable {
  id: Generated<number>;
  token_hash: string;
  account_id: string | null;
  scopes: string;
  client_name: string | null;
  created_at: number;
  revoked_at: number | null;
  /** Where the token comes from (SPEC §13): own (minted here), imported, jwt or introspection. */
  source: TokenSource;
  /** External tokens: when the token expires (epoch ms), if it says. */
  expires_at: number | null;
  /** External tokens: when its source last said it is valid (introspection re-checks, pruning). */
  confirmed_at: number | null;
}

export type TokenSource = 'own' | 'imported' | 'jwt' | 'introspection';

/** "Log out everywhere" (SPEC §13): external tokens of the account issued before this are refused. */
export interface TokenCutoffsTable {
  account_id: string;
  revoked_before: number;
}

export interface NotificationsTable {
  id: Generated<number>;
  account_id: string;
  type: string;
  from_account_id: string;
  status_id: string | null;
  /** What the event is about (status, report, event … id): identical events share it. */
  target_id: string | null;
  payload: string | null;
  group_key: string | null;
  filtered: Int;
  /** The recipient's view of the actor at event time: bit 1 following, bit 2 followed by (push policy). */
  relationship: Int;
  created_at: number;
}

export interface IdempotencyKeysTable {
  account_id: string;
  key: string;
  notification_id: number | null;
  dropped_reason: string | null;
  created_at: number;
}

export interface GroupBucketsTable {
  account_id: string;
  prefix: string;
  bucket: number;
}

export interface MarkersTable {
  account_id: string;
  timeline: string;
  last_read_id: string;
  version: number;
  updated_at: number;
}

export interface NotificationPoliciesTable {
  account_id: string;
  for_not_following: string;
  for_not_followers: string;
  for_new_accounts: string;
  for_private_mentions: string;
  for_limited_accounts: string;
  for_bots: string;
  updated_at: number;
}

export interface NotificationPermissionsTable {
  account_id: string;
  from_account_id: string;
  created_at: number;
}

export interface NotificationRequestsTable {
  id: Generated<number>;
  account_id: string;
  from_account_id: string;
  last_status_id: string | null;
  notifications_count: number;
  created_at: number;
  updated_at: number;
}

export interface PushSubscriptionsTable {
  id: Generated<number>;
  token_id: number;
  account_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  standard: Int;
  /** JSON object: every notification type → boolean. */
  alerts: string;
  policy: string;
  /** The plain access token, sealed by the push token cipher (SPEC §8.5). */
  access_token_enc: string;
  created_at: number;
  updated_at: number;
  /** SPEC §14 diagnostics: the last delivery that arrived, the last that did not, and failures since a success. */
  last_success_at: ColumnType<number | null, number | null | undefined, number | null>;
  last_failure_at: ColumnType<number | null, number | null | undefined, number | null>;
  last_failure_status: ColumnType<string | null, string | null | undefined, string | null>;
  last_failure_class: ColumnType<string | null, string | null | undefined, string | null>;
  consecutive_failures: ColumnType<number, number | undefined, number>;
}

/** Subscriptions removed in the last 7 days, with why (SPEC §14). `id` is the subscription's. */
export interface RemovedSubscriptionsTable {
  id: number;
  account_id: string;
  token_id: number;
  origin: string;
  standard: Int;
  created_at: number;
  removed_at: number;
  reason: string;
  detail: string | null;
}

export interface OriginHourlyTable {
  origin: string;
  hour: number;
  metric: string;
  count: number;
}

export interface OriginErrorsTable {
  origin: string;
  at: number;
  status: string;
  detail: string;
}

export interface DeliveriesTable {
  id: Generated<number>;
  subscription_id: number;
  notification_id: number;
  account_id: string;
  next_attempt_at: number;
  /** Attempts started, the current one included: a claim counts one, so a job that crashes its worker still ends. */
  attempts: number;
  /** While claimed: when the lease ends. It doubles as the claim's identity for updates. */
  lease_until: number | null;
  last_status: string | null;
  given_up_at: number | null;
  created_at: number;
}

export interface OriginRefusalsTable {
  origin: string;
  subscription_id: number;
  refused_at: number;
}

export interface OriginPausesTable {
  origin: string;
  paused_until: number;
}

export interface RateLimitWindowsTable {
  key: string;
  window_end: number;
  count: number;
}

/** One row per running process (SPEC §16), beating every few seconds. */
export interface ProcessesTable {
  id: string;
  role: string;
  host: string;
  pid: number;
  started_at: number;
  last_beat: number;
  ingest_per_minute: ColumnType<number, number | undefined, number>;
  open_streams: ColumnType<number, number | undefined, number>;
}

export interface SettingsTable {
  key: string;
  value: string;
}

/** A recipient's page version (migration 0005_page_versions): moved by triggers when its page could change. */
export interface NotificationVersionsTable {
  account_id: string;
  version: number | string;
}

/** One row (id 1): moved by triggers whenever any account is written. */
export interface AccountsVersionTable {
  id: number;
  version: number | string;
}

export interface Database {
  accounts: AccountsTable;
  statuses: StatusesTable;
  tokens: TokensTable;
  token_cutoffs: TokenCutoffsTable;
  notifications: NotificationsTable;
  idempotency_keys: IdempotencyKeysTable;
  group_buckets: GroupBucketsTable;
  markers: MarkersTable;
  notification_policies: NotificationPoliciesTable;
  notification_permissions: NotificationPermissionsTable;
  notification_requests: NotificationRequestsTable;
  push_subscriptions: PushSubscriptionsTable;
  deliveries: DeliveriesTable;
  settings: SettingsTable;
  origin_refusals: OriginRefusalsTable;
  origin_pauses: OriginPausesTable;
  rate_limit_windows: RateLimitWindowsTable;
  processes: ProcessesTable;
  removed_subscriptions: RemovedSubscriptionsTable;
  origin_hourly: OriginHourlyTable;
  origin_errors: OriginErrorsTable;
  notification_versions: NotificationVersionsTable;
  accounts_version: AccountsVersionTable;
}

/** A connection or a transaction: repositories accept either. */
export type Db = Kysely<Database> | Transaction<Database>;
