// Ingest of notification events (SPEC §2): drop rules, de-duplication, filtering, grouping and the push
// outbox, all in one transaction per event or batch; the bus hears of it only after the commit.
import type { Kysely } from 'kysely';
import { HeraldError, validationFailed } from '../domain/errors.js';
import { chooseBucket, groupKeyOf, groupPrefix, hourBucket } from '../domain/group-key.js';
import { parseNotificationEvent, type NotificationEvent } from '../domain/notification-event.js';
import { decideFilter, packRelationship, type NotificationPolicy } from '../domain/notification-policy.js';
import { REPLACING_TYPES, REQUEST_TYPES, SELF_ALLOWED_TYPES } from '../domain/notification-types.js';
import { findAccounts, findStatuses, type AccountRow, type StatusRow } from '../store/accounts.js';
import { deliveriesFor, findPushTargets, insertDeliveries, type NewDelivery, type PushTarget } from '../store/deliveries.js';
import { findAcceptedActors, findPolicies, touchRequests } from '../store/filtering.js';
import {
  deleteNotificationsByIds,
  findByTuples,
  findIdenticalMany,
  findNotificationsByIds,
  insertNotifications,
  storedText,
  type IdentityKey,
  type NotificationRow,
} from '../store/notifications.js';
import { isPostgres, rowsValues, selectRows, type RowColumn } from '../store/bound-lists.js';
import { executeCached } from '../store/open-store.js';
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
 * What a batch reads once instead of once per event: policies, accepted actors and push subscriptions never
 * change during ingest; group buckets, the notifications de-duplication looks at and the idempotency keys
 * do, are read once the recipients are locked (so within the transaction only the batch itself changes
 * them), and are kept here as the batch changes them. What the batch writes is gathered and written at the
 * end, a few statements for the whole batch: one statement per event was a round trip per event, which on
 * PostgreSQL cost more than all the rest (bench: 650 events/s against SQLite's 5,000).
 */
interface BatchContext {
  readonly trx: Db;
  readonly now: number;
  /** How the engine compares text (see TextKey). */
  readonly text: TextKey;
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
  /** identityString(identityOf(event)) → the notifications de-duplication finds there, oldest first. */
  readonly identical: Map<string, Note[]>;
  /** idempotencyString(recipient, key) → what the key's first event gave, stored or given in this batch. */
  readonly idempotency: Map<string, KeyRecord>;
  /** The batch's new notifications, in order. */
  readonly inserts: Note[];
  /** Notifications replaced by newer ones of this batch, deleted at the end (after their pushes are queued). */
  readonly replaced: Note[];
  readonly requests: { accountId: string; fromAccountId: string; statusId: string | null }[];
  readonly newKeys: { accountId: string; key: string; result: Outcome }[];
  readonly committed: CommittedNotification[];
}

/** A notification the batch deals with: a stored one, or a new one with its row once written. */
interface Note {
  row: NotificationRow | undefined;
  readonly insert?: { readonly values: Omit<NotificationRow, 'id'>; readonly event: NotificationEvent; readonly filtered: boolean };
  /** Replaced by a later event of this batch: from then on, de-duplication and idempotency see it gone. */
  deleted: boolean;
}

type Outcome = { readonly kind: 'dropped'; readonly reason: string } | { readonly kind: 'notification'; readonly note: Note };

/** A stored idempotency key: why its event was dropped, or its notification (null: it is gone). */
type KeyRecord = { readonly dropped: string } | { readonly note: Note | null };

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
    const recipients = events.map((e) => e.accountId);
    // What ingest never writes is read before the recipients are locked, so the lock is held only while the
    // batch reads and writes what concurrent ingests of the same recipients change (bench: on PostgreSQL,
    // batches for the same recipients queued on it).
    const accounts = await findAccounts(trx, events.flatMap((e) => [e.accountId, e.fromAccountId]));
    const statuses = await findStatuses(trx, events.flatMap((e) => (e.statusId ? [e.statusId] : [])));
    const validate = () =>
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
    validate();
    const policies = await findPolicies(trx, recipients);
    const accepted = await findAcceptedActors(trx, recipients, events.map((e) => e.fromAccountId));
    const pushTargets = await findPushTargets(trx, recipients);
    const locked = await lockRecipients(trx, recipients);
    if (locked !== undefined && recipients.some((id) => !locked.has(id))) {
      // A recipient removed since it was read: read after the lock, as before, it would be unknown.
      for (const id of recipients) if (!locked.has(id)) accounts.delete(id);
      validate();
    }
    const text = textKeyOf(trx);
    const { identical, idempotency } = await findStoredNotes(trx, events, text);
    const ctx: BatchContext = {
      trx,
      now,
      text,
      accounts,
      statuses,
      policies,
      accepted,
      pushTargets,
      buckets: await findBuckets(trx, events),
      changedBuckets: new Map(),
      identical,
      idempotency,
      inserts: [],
      replaced: [],
      requests: [],
      newKeys: [],
      committed,
    };
    const outcomes = events.map((event) => ingestOne(ctx, event));
    await writeBatch(ctx);
    const results = outcomes.map((o): IngestResult => (o.kind === 'dropped' ? o : { kind: 'notification', row: o.note.row! }));
    return { results, accounts, statuses };
  });
  deps.bus.publish(committed);
  return outcome;
}

/**
 * Serializes ingest per recipient. The idempotency and de-duplication checks read before they write; on
 * PostgreSQL two concurrent repeats (a host retrying while the first call still runs) would both miss and
 * both insert: a duplicate notification, or a primary-key error on the idempotency key. Row locks on the
 * recipients' accounts, taken in id order so overlapping batches cannot deadlock, make the second wait and
 * then see the first's commit. SQLite runs one write transaction at a time already. Returns the recipients
 * locked (those that still exist), or undefined on SQLite.
 */
async function lockRecipients(trx: Db, accountIds: readonly string[]): Promise<Set<string> | undefined> {
  if (!isPostgres(trx) || accountIds.length === 0) return undefined;
  const rows = await trx
    .selectFrom('accounts')
    .select('id')
    .where('id', 'in', [...new Set(accountIds)])
    .orderBy('id')
    .forUpdate()
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** Where de-duplication looks for an event's notification: (recipient, type, target), and the actor unless replacing. */
function identityOf(event: NotificationEvent): IdentityKey {
  const key = { accountId: event.accountId, type: event.type, targetId: event.targetId };
  return REPLACING_TYPES.has(event.type) ? key : { ...key, fromAccountId: event.fromAccountId };
}

/**
 * How the engine compares text with `=`: as the bytes it writes, which are the UTF-8 of the string with
 * lone surrogates made U+FFFD on PostgreSQL (storedText), and as JavaScript compares strings on SQLite
 * (better-sqlite3 writes a lone surrogate as bytes of its own). Maps of what the database matches are
 * keyed by this, so the batch matches in memory what one query at a time matched.
 */
type TextKey = (value: string) => string;
const textKeyOf = (trx: Db): TextKey => (isPostgres(trx) ? storedText : (value) => value);

const identityString = (key: IdentityKey, text: TextKey): string =>
  JSON.stringify([key.accountId, key.type, key.targetId, key.fromAccountId ?? null].map((v) => (v === null ? v : text(v))));

const idempotencyString = (accountId: string, key: string, text: TextKey): string => JSON.stringify([text(accountId), text(key)]);

/**
 * Reads up front what de-duplication and idempotency will look at: the stored notifications of every
 * event's identity, the batch's stored idempotency keys and their notifications. A few statements for the
 * whole batch, each row matched to its key by the database; the batch then keeps them up to date itself.
 */
async function findStoredNotes(
  trx: Db,
  events: readonly NotificationEvent[],
  text: TextKey,
): Promise<Pick<BatchContext, 'identical' | 'idempotency'>> {
  const identical: BatchContext['identical'] = new Map();
  const keys: IdentityKey[] = [];
  const names: string[] = [];
  for (const event of events) {
    const key = identityOf(event);
    const name = identityString(key, text);
    if (identical.has(name)) continue;
    identical.set(name, []);
    keys.push(key);
    names.push(name);
  }
  const byId = new Map<number, Note>();
  const noteOf = (row: NotificationRow): Note => {
    let note = byId.get(row.id);
    if (!note) byId.set(row.id, (note = { row, deleted: false }));
    return note;
  };
  for (const { index, row } of await findIdenticalMany(trx, keys)) identical.get(names[index])!.push(noteOf(row));
  // Oldest first, as the batch appends: the newest is the last.
  for (const notes of identical.values()) notes.sort((a, b) => a.row!.id - b.row!.id);

  const idempotency: BatchContext['idempotency'] = new Map();
  const pairs = new Map<string, [string, string]>();
  for (const e of events) {
    if (e.idempotencyKey !== null) pairs.set(idempotencyString(e.accountId, e.idempotencyKey, text), [e.accountId, e.idempotencyKey]);
  }
  if (pairs.size === 0) return { identical, idempotency };
  type KeyRow = { notification_id: number | null; dropped_reason: string | null };
  const stored = await findByTuples<KeyRow>(trx, 'idempotency_keys', ['account_id', 'key'], [...pairs.values()]);
  const ids = stored.flatMap(({ row }) => (row.dropped_reason === null && row.notification_id !== null ? [Number(row.notification_id)] : []));
  const rows = new Map((await findNotificationsByIds(trx, ids)).map((row) => [row.id, row]));
  const pairNames = [...pairs.keys()];
  for (const { index, row: k } of stored) {
    const row = k.notification_id === null ? undefined : rows.get(Number(k.notification_id));
    idempotency.set(pairNames[index], k.dropped_reason !== null ? { dropped: k.dropped_reason } : { note: row ? noteOf(row) : null });
  }
  return { identical, idempotency };
}

function ingestOne(ctx: BatchContext, event: NotificationEvent): Outcome {
  if (event.idempotencyKey !== null) {
    const seen = ctx.idempotency.get(idempotencyString(event.accountId, event.idempotencyKey, ctx.text));
    if (seen) {
      if ('dropped' in seen) return { kind: 'dropped', reason: seen.dropped };
      return seen.note && !seen.note.deleted ? { kind: 'notification', note: seen.note } : { kind: 'dropped', reason: 'duplicate' };
    }
  }
  const result = decideAndStore(ctx, event);
  if (event.idempotencyKey !== null) {
    ctx.idempotency.set(
      idempotencyString(event.accountId, event.idempotencyKey, ctx.text),
      result.kind === 'dropped' ? { dropped: result.reason } : { note: result.note },
    );
    ctx.newKeys.push({ accountId: event.accountId, key: event.idempotencyKey, result });
  }
  return result;
}

function decideAndStore(ctx: BatchContext, event: NotificationEvent): Outcome {
  const { now } = ctx;
  if (event.fromAccountId === event.accountId && !SELF_ALLOWED_TYPES.has(event.type)) return { kind: 'dropped', reason: 'self' };
  const actor = ctx.accounts.get(event.fromAccountId)!;
  if (actor.suspended && event.fromAccountId !== event.accountId) return { kind: 'dropped', reason: 'suspended' };

  const identical = ctx.identical.get(identityString(identityOf(event), ctx.text))!;
  if (REPLACING_TYPES.has(event.type)) {
    // The older notifications (of any actor) go, with their queued pushes, at the end of the batch.
    for (const older of identical.splice(0)) {
      older.deleted = true;
      ctx.replaced.push(older);
    }
  } else {
    const existing = identical.at(-1);
    if (existing) return { kind: 'notification', note: existing };
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
  const note: Note = {
    row: undefined,
    deleted: false,
    insert: {
      event,
      filtered,
      values: {
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
      },
    },
  };
  ctx.inserts.push(note);
  identical.push(note);
  if (filtered && REQUEST_TYPES.has(event.type)) {
    ctx.requests.push({ accountId: event.accountId, fromAccountId: event.fromAccountId, statusId: event.statusId });
  }
  return { kind: 'notification', note };
}

/**
 * Writes what the batch decided, in an order that leaves what one event at a time left: the new
 * notifications (ids in event order), their queued pushes, then the replaced notifications with theirs
 * (some may be new ones of this very batch), the requests, the idempotency keys and the buckets.
 */
async function writeBatch(ctx: BatchContext): Promise<void> {
  const { trx, now } = ctx;
  const rows = await insertNotifications(trx, ctx.inserts.map((note) => note.insert!.values));
  const deliveries: NewDelivery[] = [];
  ctx.inserts.forEach((note, i) => {
    const row = (note.row = rows[i]);
    const { event, filtered } = note.insert!;
    const due = deliveriesFor(ctx.pushTargets.get(event.accountId) ?? [], { ...row, type: event.type, filtered }, event.relationship, now);
    deliveries.push(...due);
    ctx.committed.push({ accountId: row.account_id, notificationId: row.id, filtered, deliveries: due.length });
  });
  await insertDeliveries(trx, deliveries);
  await deleteNotificationsByIds(trx, ctx.replaced.map((note) => note.row!.id));
  await touchRequests(trx, ctx.requests, now);
  await saveIdempotencyKeys(ctx);
  await saveBuckets(ctx);
}

async function saveIdempotencyKeys(ctx: BatchContext): Promise<void> {
  if (ctx.newKeys.length === 0) return;
  const rows = ctx.newKeys.map(({ accountId, key, result }) => [
    accountId,
    key,
    result.kind === 'notification' ? result.note.row!.id : null,
    result.kind === 'dropped' ? result.reason : null,
    ctx.now,
  ]);
  await executeCached(ctx.trx, 'saveIdempotencyKeys', rowsValues(ctx.trx, KEY_ROW, rows), (param) =>
    ctx.trx
      .insertInto('idempotency_keys')
      .columns(KEY_ROW.map(({ name }) => name))
      .expression(selectRows(ctx.trx, KEY_ROW, param)),
  );
}

const KEY_ROW = [
  { name: 'account_id', type: 'text' },
  { name: 'key', type: 'text' },
  { name: 'notification_id', type: 'bigint' },
  { name: 'dropped_reason', type: 'text' },
  { name: 'created_at', type: 'bigint' },
] as const satisfies readonly (RowColumn & { name: keyof Database['idempotency_keys'] })[];

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
  type BucketRow = { account_id: string; prefix: string; bucket: number };
  for (const { row } of await findByTuples<BucketRow>(trx, 'group_buckets', ['account_id', 'prefix'], pairs)) {
    buckets.get(row.account_id)!.set(row.prefix, Number(row.bucket));
  }
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
  if (rows.length === 0) return;
  // One statement for every batch (bound-lists.ts); every (recipient, prefix) is there once.
  const values = rowsValues(ctx.trx, BUCKET_ROW, rows.map((r) => [r.account_id, r.prefix, r.bucket]));
  await executeCached(ctx.trx, 'saveBuckets', values, (param) =>
    ctx.trx
      .insertInto('group_buckets')
      .columns(['account_id', 'prefix', 'bucket'])
      .expression(selectRows(ctx.trx, BUCKET_ROW, param))
      .onConflict((oc) => oc.columns(['account_id', 'prefix']).doUpdateSet((eb) => ({ bucket: eb.ref('excluded.bucket') }))),
  );
}

const BUCKET_ROW: readonly RowColumn[] = [
  { name: 'account_id', type: 'text' },
  { name: 'prefix', type: 'text' },
  { name: 'bucket', type: 'bigint' },
];
