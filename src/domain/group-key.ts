// Group keys (SPEC §6, Mastodon's NotifyService#set_group_key!): hour buckets, a group spans ≤ 12 of them.
import { GROUPABLE_TYPES, type NotificationType } from './notification-types.js';

export const MAX_GROUP_SPAN_BUCKETS = 12;
const BUCKET_MS = 3_600_000;

/** The part of the key shared by every notification that may join a group, or null if the type never groups. */
export function groupPrefix(type: NotificationType, statusId: string | null): string | null {
  if (!GROUPABLE_TYPES.has(type)) return null;
  if (type === 'favourite' || type === 'reblog') return `${type}-${statusId ?? ''}`;
  return type;
}

export const hourBucket = (createdAtMs: number): number => Math.floor(createdAtMs / BUCKET_MS);

/**
 * Picks the bucket for a new event: the previous bucket of the same (recipient, prefix) is reused while the
 * event is not older than it and less than 12 buckets after it.
 */
export function chooseBucket(eventBucket: number, previousBucket: number | null): number {
  if (previousBucket === null) return eventBucket;
  return eventBucket >= previousBucket && eventBucket < previousBucket + MAX_GROUP_SPAN_BUCKETS
    ? previousBucket
    : eventBucket;
}

export const groupKeyOf = (prefix: string, bucket: number): string => `${prefix}-${bucket}`;

/** What clients see: the assigned key, or `ungrouped-<id>`. */
export const visibleGroupKey = (groupKey: string | null, id: number): string => groupKey ?? `ungrouped-${id}`;
