// Ingest of notification events (SPEC §2): drop rules, de-duplication, filtering, grouping and the push
// outbox, all in one transaction per event or batch; the bus hears of it only after the commit.
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { HeraldError, validationFailed } from '../domain/errors.js';
import { chooseBucket, groupKeyOf, groupPrefix, hourBucket } from '../domain/group-key.js';
import { parseNotificationEvent, type NotificationEvent } from '../domain/notification-event.js';
import { decideFilter, packRelationship, type NotificationPolicy } from '../domain/notification-policy.js';
import { REPLACING_TYPES, REQUEST_TYPES, SELF_ALLOWED_TYPES } from '../domain/notification-types.js';
import { findAccounts, findStatuses, type AccountRow, type StatusRow } from '../store/accounts.js';
import { deliveriesFor, findPushTargets, insertDeliveries, type NewDelivery, type PushTarget } from '../store/deliveries.js';
import { findAcceptedActors, findPolicies, touchRequest } from '../store/filtering.js';
import {
  deleteNotifications,
  findIdentical,
  findNotificationById,
  insertNotification,
  type NotificationRow,
} from '../store/notifications.js';
import { executeCached, listShape } from '../store/open-store.js';
import type { Database, Db } from '../store/schema.js';
import type { CommittedNotification, NotificationBus } from './notification-bus.js';

export const MAX_BATCH = 1000;

export type IngestResult =
  | { readonly kind: 'notification'; readonly row: NotificationRow }
  | { readonly kind: 'dropped'; readonly reason: string };

export interface IngestDeps {
  readonly db: Kysely<Database>;
  readonly bus: NotificationBus;
  readonly now: () => number;
}

/**
 * What a batch reads once instead of once per event (the recipients are locked, so within the transaction
 * only the batch itself changes them): policies, accepted actors and push subscriptions never change during
 * ingest; group buckets do, and are kept here and written once at the end; queued deliveries are written
 * together, before anything could delete their notification and at the end.
 */
interface BatchContext {
  readonly trx: Db;
  readonly now: number;
  readonly accounts: Map<string, AccountRow>;
  readonly statuses: Map<string, StatusRow>;
  readonly policies: Map<string, NotificationPolicy>;
  /** recipient → actors it accepted (among the batch's actors). */
  readonly accepted: Map<string, Set<string>>;
  readonly pushTargets: Map<string, PushTarget[]>;
  /** recipient → group prefix → bucket, as stored (null: no row) or as this batch will store it. */
  readonly buckets: Map<string, Map<string, number | null>>;
  /** Buckets this batch moved: "recipient\u0000prefix" → the row to upsert. */
  readonly changedBuckets: Map<string, { account_id: string; prefix: string; bucket: number }>;
  readonly pendingDeliveries: NewDelivery[];
  readonly committed: CommittedNotification[];
}

function withIndex(error: unknown, index: number | null): unknown {
  if (index === null || !(error instanceof HeraldError) || error.code !== 'ERR_VALIDATION') return error;
  return validationFailed(`events[${index}]: ${error.message.replace(/^Validation failed: /, '')}`);
}

/** What an ingest did, with the actors and statuses it read (rendering the results needs them again). */
export interface IngestOutcome {
  readonly results: IngestResult[];
  readonly accounts: ReadonlyMap<string, AccountRow>;
  readonly statuses: ReadonlyMap<string, StatusRow>;
}

/** Ingests events in order, all or nothing; `batch` names failing events by index. */
export async function ingestEvents(deps: IngestDeps, bodies: readonly unknown[], batch: boolean): Promise<IngestOutcome> {
  if (bodies.length > MAX_BATCH) throw validationFailed(`events: at most ${MAX_BATCH} events in one batch`);
  const now = deps.now();
  // Every event is checked before anything is written.
  const events = bodies.map((body, i) => {
    try {
      return parseNotificationEvent(body, now);
    } catch (error) {
      throw withIndex(error, batch ? i : null);
    }
  });
  const committed: CommittedNotification[] = [];
  const outcome = await deps.db.transaction().execute(async (trx) => {
    await lockRecipients(trx, events.map((e) => e.accountId));
    const accounts = await findAccounts(trx, events.flatMap((e) => [e.accountId, e.fromAccountId]));
    const statuses = await findStatuses(trx, events.flatMap((e) => (e.statusId ? [e.statusId] : [])));
    events.forEach((event, i) => {
      const problem = !accounts.has(event.accountId)
        ? 'unknown account'
        : !accounts.has(event.fromAccountId)
          ? 'unknown from_account'
          : event.statusId !== null && !statuses.has(event.statusId)
            ? 'unknown status'
            : null;
      if (problem) throw withIndex(validationFailed(problem), batch ? i : null);
    });
    const recipients = events.map((e) => e.accountId);
    const ctx: BatchContext = {
      trx,
      now,
      accounts,
      statuses,
      policies: await findPolicies(trx, recipients),
      accepted: await findAcceptedActors(trx, recipients, events.map((e) => e.fromAccountId)),
      pushTargets: await findPushTargets(trx, recipients),
      buckets: await findBuckets(trx, events),
      changedBuckets: new Map(),
      pendingDeliveries: [],
      committed,
    };
    const out: IngestResult[] = [];
    for (const event of events) out.push(await ingestOne(ctx, event));
    await flushDeliveries(ctx);
    await saveBuckets(ctx);
    return { results: out, accounts, statuses };
  });
  deps.bus.publish(committed);
  return outcome;
}

/**
 * Serializes ingest per recipient. The idempotency and de-duplication checks read before they write; on
 * PostgreSQL two concurrent repeats (a host retrying while the first call still runs) would both miss and
 * both insert: a duplicate notification, or a primary-key error on the idempotency key. Row locks on the
 * recipients' accounts, taken in id order so overlapping batches cannot deadlock, make the second wait and
 * then see the first's commit. SQLite runs one write transaction at a time already.
 */
async function lockRecipients(trx: Db, accountIds: readonly string[]): Promise<void> {
  if (!(trx.getExecutor().adapter instanceof PostgresAdapter) || accountIds.length === 0) return;
  await trx
    .selectFrom('accounts')
    .select('id')
    .where('id', 'in', [...new Set(accountIds)])
    .orderBy('id')
    .forUpdate()
    .execute();
}

async function ingestOne(ctx: BatchContext, event: NotificationEvent): Promise<IngestResult> {
  const { trx } = ctx;
  if (event.idempotencyKey !== null) {
    const seen = await trx
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('account_id', '=', event.accountId)
      .where('key', '=', event.idempotencyKey)
      .executeTakeFirst();
    if (seen) {
      if (seen.dropped_reason !== null) return { kind: 'dropped', reason: seen.dropped_reason };
      const row = seen.notification_id === null ? undefined : await findNotificationById(trx, seen.notification_id);
      return row ? { kind: 'notification', row } : { kind: 'dropped', reason: 'duplicate' };
    }
  }
  const result = await decideAndStore(ctx, event);
  if (event.idempotencyKey !== null) {
    await trx
      .insertInto('idempotency_keys')
      .values({
        account_id: event.accountId,
        key: event.idempotencyKey,
        notification_id: result.kind === 'notification' ? result.row.id : null,
        dropped_reason: result.kind === 'dropped' ? result.reason : null,
        created_at: ctx.now,
      })
      .execute();
  }
  return result;
}

async function decideAndStore(ctx: BatchContext, event: NotificationEvent): Promise<IngestResult> {
  const { trx, now } = ctx;
  if (event.fromAccountId === event.accountId && !SELF_ALLOWED_TYPES.has(event.type)) return { kind: 'dropped', reason: 'self' };
  const actor = ctx.accounts.get(event.fromAccountId)!;
  if (actor.suspended && event.fromAccountId !== event.accountId) return { kind: 'dropped', reason: 'suspended' };

  const identity = { accountId: event.accountId, type: event.type, targetId: event.targetId };
  if (REPLACING_TYPES.has(event.type)) {
    const older = await findIdentical(trx, identity);
    if (older.length > 0) {
      // Their queued pushes go with them: those of this batch must be written first.
      await flushDeliveries(ctx);
      await deleteNotifications(trx, event.accountId, older.map((n) => n.id));
    }
  } else {
    const [existing] = await findIdentical(trx, { ...identity, fromAccountId: event.fromAccountId });
    if (existing) return { kind: 'notification', row: existing };
  }

  const policy = ctx.policies.get(event.accountId)!;
  const decision = decideFilter(policy, {
    type: event.type,
    relationship: event.relationship,
    actorCreatedAtMs: actor.created_at,
    actorBot: actor.bot === 1,
    actorLimited: actor.limited === 1,
    statusVisibility: event.statusId ? (ctx.statuses.get(event.statusId)?.visibility ?? null) : null,
    actorAccepted: ctx.accepted.get(event.accountId)?.has(event.fromAccountId) ?? false,
    nowMs: now,
  });
  if (decision === 'drop') return { kind: 'dropped', reason: 'policy' };
  const filtered = decision === 'filter';

  const groupKey = filtered ? null : assignGroupKey(ctx, event);
  const row = await insertNotification(trx, {
    account_id: event.accountId,
    type: event.type,
    from_account_id: event.fromAccountId,
    status_id: event.statusId,
    target_id: event.targetId,
    payload: event.payload === null ? null : JSON.stringify(event.payload),
    group_key: groupKey,
    filtered: filtered ? 1 : 0,
    relationship: packRelationship(event.relationship),
    created_at: event.createdAtMs,
  });
  if (filtered && REQUEST_TYPES.has(event.type)) {
    await touchRequest(trx, event.accountId, event.fromAccountId, event.statusId, now);
  }
  const due = deliveriesFor(ctx.pushTargets.get(event.accountId) ?? [], { ...row, type: event.type, filtered }, event.relationship, now);
  ctx.pendingDeliveries.push(...due);
  ctx.committed.push({ accountId: row.account_id, notificationId: row.id, filtered, deliveries: due.length });
  return { kind: 'notification', row };
}

async function flushDeliveries(ctx: BatchContext): Promise<void> {
  if (ctx.pendingDeliveries.length === 0) return;
  await insertDeliveries(ctx.trx, ctx.pendingDeliveries.splice(0));
}

/**
 * The stored buckets of every (recipient, prefix) the batch may group under, looked up as exact pairs: a
 * recipient keeps a bucket row per status it was favourited or boosted on, so asking for every prefix of
 * every recipient read ~100 rows per recipient on a 1M-notification store (bench: 150 ms per batch).
 */
async function findBuckets(trx: Db, events: readonly NotificationEvent[]): Promise<BatchContext['buckets']> {
  const buckets: BatchContext['buckets'] = new Map();
  const pairs: [string, string][] = [];
  for (const event of events) {
    const prefix = groupPrefix(event.type, event.statusId);
    if (prefix === null) continue;
    let mine = buckets.get(event.accountId);
    if (!mine) buckets.set(event.accountId, (mine = new Map()));
    if (mine.has(prefix)) continue;
    mine.set(prefix, null);
    pairs.push([event.accountId, prefix]);
  }
  if (pairs.length === 0) return buckets;
  const rows = await executeCached(trx, listShape('findBuckets', pairs), pairs.flat(), (param) => {
    const rowValues = pairs.map((_, i) => sql`(${param(2 * i)}, ${param(2 * i + 1)})`);
    // A row-value IN over VALUES: one index probe per pair on both engines.
    return trx
      .selectFrom('group_buckets')
      .select(['account_id', 'prefix', 'bucket'])
      .where(sql<boolean>`(account_id, prefix) in (values ${sql.join(rowValues)})`);
  });
  for (const row of rows) buckets.get(row.account_id)!.set(row.prefix, Number(row.bucket));
  return buckets;
}

/** SPEC §6 buckets: the previous bucket of (recipient, prefix) is reused while the group spans < 12 hours. */
function assignGroupKey(ctx: BatchContext, event: NotificationEvent): string | null {
  const prefix = groupPrefix(event.type, event.statusId);
  if (prefix === null) return null;
  const mine = ctx.buckets.get(event.accountId)!;
  const previousBucket = mine.get(prefix) ?? null;
  const bucket = chooseBucket(hourBucket(event.createdAtMs), previousBucket);
  // A back-dated event must not pull the remembered bucket backwards and split a live group.
  if (previousBucket === null || bucket > previousBucket) {
    mine.set(prefix, bucket);
    ctx.changedBuckets.set(`${event.accountId}\u0000${prefix}`, { account_id: event.accountId, prefix, bucket });
  }
  return groupKeyOf(prefix, bucket);
}

async function saveBuckets(ctx: BatchContext): Promise<void> {
  const rows = [...ctx.changedBuckets.values()];
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const values = chunk.flatMap((row) => [row.account_id, row.prefix, row.bucket]);
    await executeCached(ctx.trx, listShape('saveBuckets', chunk), values, (param) =>
      ctx.trx
        .insertInto('group_buckets')
        .values(chunk.map((_, r) => ({ account_id: param(r * 3), prefix: param(r * 3 + 1), bucket: param(r * 3 + 2) })))
        .onConflict((oc) => oc.columns(['account_id', 'prefix']).doUpdateSet((eb) => ({ bucket: eb.ref('excluded.bucket') }))),
    );
  }
}
