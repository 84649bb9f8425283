// A notification event from the host platform (SPEC §2, §12): shape checks only, no database. Pure.
import { validationFailed } from './errors.js';
import type { Relationship } from './notification-policy.js';
import { PAYLOAD_KEY, SELF_ACTOR_TYPES, isNotificationType, type NotificationType, type PayloadKey } from './notification-types.js';
import { isObject, parseTime, readId, type JsonObject } from './records.js';

export interface NotificationEvent {
  readonly accountId: string;
  readonly type: NotificationType;
  readonly fromAccountId: string;
  readonly statusId: string | null;
  /** The non-status payload object (report, event, …) as given, for types that carry one. */
  readonly payload: JsonObject | null;
  /** What the event is about, for de-duplication: the status or payload id. */
  readonly targetId: string | null;
  readonly createdAtMs: number;
  readonly relationship: Relationship;
  readonly idempotencyKey: string | null;
}

const FUTURE_TOLERANCE_MS = 5 * 60_000;
const OBJECT_PAYLOADS: readonly PayloadKey[] = ['report', 'event', 'moderation_warning', 'collection', 'annual_report'];

function readRelationship(value: unknown, errors: string[]): Relationship {
  if (value === undefined || value === null) return { following: false, followedBy: false, followedBySinceMs: null };
  if (!isObject(value)) {
    errors.push('relationship must be an object');
    return { following: false, followedBy: false, followedBySinceMs: null };
  }
  const bool = (key: string): boolean => {
    const v = value[key];
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') errors.push(`relationship.${key} must be a boolean`);
    return v === true;
  };
  let since: number | null = null;
  if (value.followed_by_since !== undefined && value.followed_by_since !== null) {
    since = parseTime(value.followed_by_since) ?? null;
    if (since === null) errors.push('relationship.followed_by_since must be an ISO 8601 time');
  }
  return { following: bool('following'), followedBy: bool('followed_by'), followedBySinceMs: since };
}

/** Checks an event's shape; throws a 422-coded error listing every problem. */
export function parseNotificationEvent(body: unknown, nowMs: number): NotificationEvent {
  if (!isObject(body)) throw validationFailed('event must be a JSON object');
  const errors: string[] = [];
  const accountId = readId(body.account_id);
  if (accountId === undefined) errors.push('account_id is required');
  const type = body.type;
  if (!isNotificationType(type)) {
    errors.push(typeof type === 'string' ? `unknown type '${type.slice(0, 64)}'` : 'type is required');
    throw validationFailed(...errors);
  }
  let fromAccountId = readId(body.from_account_id);
  if (fromAccountId === undefined) {
    if (body.from_account_id !== undefined && body.from_account_id !== null) errors.push('from_account_id must be an id');
    else if (SELF_ACTOR_TYPES.has(type)) fromAccountId = accountId;
    else errors.push('from_account_id is required');
  }
  const payloadKey = PAYLOAD_KEY[type];
  let statusId: string | null = null;
  let payload: JsonObject | null = null;
  if (payloadKey === 'status') {
    statusId = readId(body.status_id) ?? null;
    if (statusId === null) errors.push(`status_id is required for ${type}`);
  } else if (payloadKey !== null && OBJECT_PAYLOADS.includes(payloadKey)) {
    const value = body[payloadKey];
    if (isObject(value)) payload = value;
    else if (value !== undefined && value !== null) errors.push(`${payloadKey} must be an object`);
    else if (payloadKey !== 'annual_report') errors.push(`${payloadKey} is required for ${type}`);
  }
  let createdAtMs = nowMs;
  if (body.created_at !== undefined && body.created_at !== null) {
    const parsed = parseTime(body.created_at);
    if (parsed === undefined) errors.push('created_at must be an ISO 8601 time');
    else if (parsed > nowMs + FUTURE_TOLERANCE_MS) errors.push('created_at is in the future');
    else createdAtMs = parsed;
  }
  const relationship = readRelationship(body.relationship, errors);
  let idempotencyKey: string | null = null;
  if (body.idempotency_key !== undefined && body.idempotency_key !== null) {
    if (typeof body.idempotency_key !== 'string' || body.idempotency_key === '' || body.idempotency_key.length > 255) {
      errors.push('idempotency_key must be a string of 1 to 255 characters');
    } else idempotencyKey = body.idempotency_key;
  }
  if (errors.length > 0) throw validationFailed(...errors);
  const payloadId = payload === null ? undefined : readId(payload.id) ?? readId(payload.year);
  return {
    accountId: accountId!,
    type,
    fromAccountId: fromAccountId!,
    statusId,
    payload,
    targetId: statusId ?? payloadId ?? null,
    createdAtMs,
    relationship,
    idempotencyKey,
  };
}
