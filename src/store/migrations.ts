// Schema migrations, one list for both engines; only the auto-increment id type differs.
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

function initial(dialect: Dialect): Migration {
  // SQLite's rowid alias and PostgreSQL's bigserial: both increasing integers below 2^53 (SPEC §1.4).
  const serial = dialect === 'sqlite' ? ('integer' as const) : ('bigserial' as const);
  const pk = <T extends { primaryKey(): T; autoIncrement(): T }>(c: T): T =>
    dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey();
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('acct', 'text', (c) => c.notNull())
        .addColumn('json', 'text', (c) => c.notNull())
        .addColumn('locale', 'text')
        .addColumn('suspended', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('bot', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('limited', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('statuses')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text')
        .addColumn('visibility', 'text')
        .addColumn('json', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('id', serial, pk)
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('account_id', 'text')
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('client_name', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('tokens_account').on('tokens').columns(['account_id']).execute();
      await db.schema
        .createTable('notifications')
        .addColumn('id', serial, pk)
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('from_account_id', 'text', (c) => c.notNull())
        .addColumn('status_id', 'text')
        .addColumn('target_id', 'text')
        .addColumn('payload', 'text')
        .addColumn('group_key', 'text')
        .addColumn('filtered', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('relationship', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // Every hot read is one recipient's range of ids.
      await db.schema.createIndex('notifications_account_id').on('notifications').columns(['account_id', 'id']).execute();
      await db.schema
        .createIndex('notifications_identity')
        .on('notifications')
        .columns(['account_id', 'type', 'target_id', 'from_account_id'])
        .execute();
      await db.schema
        .createIndex('notifications_group')
        .on('notifications')
        .columns(['account_id', 'group_key', 'id'])
        .execute();
      await db.schema
        .createIndex('notifications_actor')
        .on('notifications')
        .columns(['account_id', 'from_account_id', 'id'])
        .execute();
      await db.schema.createIndex('notifications_status').on('notifications').columns(['status_id']).execute();
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('notification_id', 'bigint')
        .addColumn('dropped_reason', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['account_id', 'key'])
        .execute();
      await db.schema
        .createTable('group_buckets')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('bucket', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_buckets_pk', ['account_id', 'prefix'])
        .execute();
      await db.schema
        .createTable('markers')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('timeline', 'text', (c) => c.notNull())
        .addColumn('last_read_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('markers_pk', ['account_id', 'timeline'])
        .execute();
      await db.schema
        .createTable('notification_policies')
        .addColumn('account_id', 'text', (c) => c.primaryKey())
        .addColumn('for_not_following', 'text', (c) => c.notNull())
        .addColumn('for_not_followers', 'text', (c) => c.notNull())
        .addColumn('for_new_accounts', 'text', (c) => c.notNull())
        .addColumn('for_private_mentions', 'text', (c) => c.notNull())
        .addColumn('for_limited_accounts', 'text', (c) => c.notNull())
        .addColumn('for_bots', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('notification_permissions')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('from_account_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('notification_permissions_pk', ['account_id', 'from_account_id'])
        .execute();
      await db.schema
        .createTable('notification_requests')
        .addColumn('id', serial, pk)
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('from_account_id', 'text', (c) => c.notNull())
        .addColumn('last_status_id', 'text')
        .addColumn('notifications_count', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('notification_requests_actor', ['account_id', 'from_account_id'])
        .execute();
      await db.schema
        .createTable('push_subscriptions')
        .addColumn('id', serial, pk)
        .addColumn('token_id', 'bigint', (c) => c.notNull().unique())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('p256dh', 'text', (c) => c.notNull())
        .addColumn('auth', 'text', (c) => c.notNull())
        .addColumn('standard', 'integer', (c) => c.notNull())
        .addColumn('alerts', 'text', (c) => c.notNull())
        .addColumn('policy', 'text', (c) => c.notNull())
        .addColumn('access_token_enc', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('push_subscriptions_account').on('push_subscriptions').columns(['account_id']).execute();
      await db.schema
        .createTable('deliveries')
        .addColumn('id', serial, pk)
        .addColumn('subscription_id', 'bigint', (c) => c.notNull())
        .addColumn('notification_id', 'bigint', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lease_until', 'bigint')
        .addColumn('last_status', 'text')
        .addColumn('given_up_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('deliveries_due')
        .on('deliveries')
        .columns(['given_up_at', 'next_attempt_at'])
        .execute();
      await db.schema.createIndex('deliveries_subscription').on('deliveries').columns(['subscription_id']).execute();
      await db.schema.createIndex('deliveries_notification').on('deliveries').columns(['notification_id']).execute();
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}

/** SPEC §13: the host platform's tokens keep a local row with their source; account-wide revocations keep a cut-off. */
const hostTokens: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('tokens').addColumn('source', 'text', (c) => c.notNull().defaultTo('own')).execute();
    await db.schema.alterTable('tokens').addColumn('expires_at', 'bigint').execute();
    await db.schema.alterTable('tokens').addColumn('confirmed_at', 'bigint').execute();
    // Pruning looks for external tokens past their expiry or not seen for long.
    await db.schema.createIndex('tokens_source_confirmed').on('tokens').columns(['source', 'confirmed_at']).execute();
    await db.schema
      .createTable('token_cutoffs')
      .addColumn('account_id', 'text', (c) => c.primaryKey())
      .addColumn('revoked_before', 'bigint', (c) => c.notNull())
      .execute();
  },
};

/** SPEC §16: what protects users across processes lives in the database. */
const sharedState: Migration = {
  async up(db: Kysely<any>) {
    // The 401/403 burst breaker (SPEC §8.7): refusals by origin and subscription, and pauses by origin.
    await db.schema
      .createTable('origin_refusals')
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('subscription_id', 'bigint', (c) => c.notNull())
      .addColumn('refused_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('origin_refusals_pk', ['origin', 'subscription_id'])
      .execute();
    await db.schema
      .createTable('origin_pauses')
      .addColumn('origin', 'text', (c) => c.primaryKey())
      .addColumn('paused_until', 'bigint', (c) => c.notNull())
      .execute();
    // Rate-limit counters shared by every web process (SPEC §1.7, §16), one row per bucket and window.
    await db.schema
      .createTable('rate_limit_windows')
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('window_end', 'bigint', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('rate_limit_windows_pk', ['key', 'window_end'])
      .execute();
    await db.schema
      .createTable('processes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('last_beat', 'bigint', (c) => c.notNull())
      .addColumn('ingest_per_minute', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('open_streams', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};

/** SPEC §14: what the console needs to say why a phone got no push, kept small and pruned. */
const diagnostics: Migration = {
  async up(db: Kysely<any>) {
    for (const [name, type] of [
      ['last_success_at', 'bigint'],
      ['last_failure_at', 'bigint'],
      ['last_failure_status', 'text'],
      ['last_failure_class', 'text'],
    ] as const) {
      await db.schema.alterTable('push_subscriptions').addColumn(name, type).execute();
    }
    await db.schema.alterTable('push_subscriptions').addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema
      .createTable('removed_subscriptions')
      .addColumn('id', 'bigint', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('token_id', 'bigint', (c) => c.notNull())
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('standard', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('removed_at', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('detail', 'text')
      .execute();
    await db.schema.createIndex('removed_subscriptions_account').on('removed_subscriptions').columns(['account_id', 'removed_at']).execute();
    // Per origin and hour: `outcome:<label>` counts and `send:<bucket>` send-time histogram counts.
    await db.schema
      .createTable('origin_hourly')
      .addColumn('origin', 'text', (c) => c.notNull())
      .addColumn('hour', 'bigint', (c) => c.notNull())
      .addColumn('metric', 'text', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('origin_hourly_pk', ['origin', 'hour', 'metric'])
      .execute();
    await db.schema
      .createTable('origin_errors')
      .addColumn('origin', 'text', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('detail', 'text', (c) => c.notNull())
      .execute();
  },
};

/**
 * What a listing page shows changes only through these versions (the page cache, src/http/page-cache.ts):
 * `notification_versions`, one per recipient, moves whenever a row of its notifications is written or its
 * status changes; `accounts_version` whenever any account is written (an actor's JSON, name or suspension
 * shows on every recipient's page, and no index leads from an actor to them). Triggers move them, in the
 * writing transaction, so no write path can forget to and every process sees the change with the data.
 */
function pageVersions(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('notification_versions')
        .addColumn('account_id', 'text', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('accounts_version')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('accounts_version').values({ id: 1, version: 0 }).execute();
      for (const statement of dialect === 'sqlite' ? SQLITE_VERSION_TRIGGERS : POSTGRES_VERSION_TRIGGERS) {
        await sql.raw(statement).execute(db);
      }
    },
  };
}

const bumpRecipients = (from: string) =>
  `insert into notification_versions (account_id, version) ${from}
   on conflict (account_id) do update set version = notification_versions.version + 1;`;
const ACCOUNT_CHANGED = 'old.json is not new.json or old.username is not new.username or old.suspended is not new.suspended';

const SQLITE_VERSION_TRIGGERS = [
  ...(['insert', 'update', 'delete'] as const).map(
    (event) => `create trigger notifications_${event}_version after ${event} on notifications begin
      ${bumpRecipients(`select ${event === 'delete' ? 'old' : 'new'}.account_id, 1 where true`)}
    end`,
  ),
  `create trigger notifications_moved_version after update of account_id on notifications when old.account_id is not new.account_id begin
    ${bumpRecipients('select old.account_id, 1 where true')}
  end`,
  `create trigger statuses_update_version after update on statuses when old.json is not new.json begin
    ${bumpRecipients('select distinct account_id, 1 from notifications where status_id = new.id')}
  end`,
  `create trigger statuses_delete_version after delete on statuses begin
    ${bumpRecipients('select distinct account_id, 1 from notifications where status_id = old.id')}
  end`,
  ...(['insert', 'delete'] as const).map(
    (event) => `create trigger accounts_${event}_version after ${event} on accounts begin
      update accounts_version set version = version + 1 where id = 1;
    end`,
  ),
  `create trigger accounts_update_version after update on accounts when ${ACCOUNT_CHANGED} begin
    update accounts_version set version = version + 1 where id = 1;
  end`,
];

// PostgreSQL moves a batch's recipients once per statement (transition tables), in id order: concurrent
// writers then take the version rows' locks in the same order. A row trigger would upsert once per row.
const POSTGRES_VERSION_TRIGGERS = [
  `create function herald_bump_notification_versions() returns trigger language plpgsql as $$
   begin
     ${bumpRecipients('select distinct account_id, 1 from changed_rows order by account_id')}
     return null;
   end $$`,
  ...(['insert', 'delete'] as const).map(
    (event) => `create trigger notifications_${event}_version after ${event} on notifications
      referencing ${event === 'delete' ? 'old' : 'new'} table as changed_rows
      for each statement execute function herald_bump_notification_versions()`,
  ),
  `create function herald_bump_updated_notification_versions() returns trigger language plpgsql as $$
   begin
     ${bumpRecipients('select account_id, 1 from (select account_id from old_rows union select account_id from new_rows) moved order by account_id')}
     return null;
   end $$`,
  `create trigger notifications_update_version after update on notifications
      referencing old table as old_rows new table as new_rows
      for each statement execute function herald_bump_updated_notification_versions()`,
  `create function herald_bump_status_readers() returns trigger language plpgsql as $$
   begin
     ${bumpRecipients('select distinct account_id, 1 from notifications where status_id = old.id order by account_id')}
     return null;
   end $$`,
  `create trigger statuses_update_version after update on statuses for each row
      when (old.json is distinct from new.json) execute function herald_bump_status_readers()`,
  `create trigger statuses_delete_version after delete on statuses for each row execute function herald_bump_status_readers()`,
  `create function herald_bump_accounts_version() returns trigger language plpgsql as $$
   begin
     update accounts_version set version = version + 1 where id = 1;
     return null;
   end $$`,
  // Per row: an upsert that only updates fires no row INSERT trigger (a statement one it would).
  `create trigger accounts_change_version after insert or delete on accounts
      for each row execute function herald_bump_accounts_version()`,
  `create trigger accounts_update_version after update on accounts for each row
      when (${ACCOUNT_CHANGED.replaceAll('is not', 'is distinct from')}) execute function herald_bump_accounts_version()`,
];

class StaticProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      '0001_initial': initial(this.dialect),
      '0002_host_tokens': hostTokens,
      '0003_shared_state': sharedState,
      '0004_diagnostics': diagnostics,
      '0005_page_versions': pageVersions(this.dialect),
    };
  }
}

export function createMigrator(db: Kysely<Database>, dialect: Dialect): Migrator {
  return new Migrator({ db, provider: new StaticProvider(dialect) });
}

/** Applies pending migrations; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  const { error, results } = await createMigrator(db, dialect).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when no migration is pending (for /readyz). */
export async function isMigrated(db: Kysely<Database>, dialect: Dialect): Promise<boolean> {
  const migrations = await createMigrator(db, dialect).getMigrations();
  return migrations.every((m) => m.executedAt !== undefined);
}

