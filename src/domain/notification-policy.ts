// Notification filtering (SPEC §7): which events are dropped, which are stored filtered. Pure.
import { FILTERABLE_TYPES, type NotificationType } from './notification-types.js';

export const POLICY_VALUES = ['accept', 'filter', 'drop'] as const;
export type PolicyValue = (typeof POLICY_VALUES)[number];

export const POLICY_FIELDS = [
  'for_not_following',
  'for_not_followers',
  'for_new_accounts',
  'for_private_mentions',
  'for_limited_accounts',
  'for_bots',
] as const;
export type PolicyField = (typeof POLICY_FIELDS)[number];
export type NotificationPolicy = Readonly<Record<PolicyField, PolicyValue>>;

export const DEFAULT_POLICY: NotificationPolicy = Object.freeze({
  for_not_following: 'accept',
  for_not_followers: 'accept',
  for_new_accounts: 'accept',
  for_private_mentions: 'filter',
  for_limited_accounts: 'filter',
  for_bots: 'accept',
});

export const isPolicyValue = (v: unknown): v is PolicyValue => v === 'accept' || v === 'filter' || v === 'drop';

/** The recipient's view of the actor at event time (SPEC §2). */
export interface Relationship {
  readonly following: boolean;
  readonly followedBy: boolean;
  readonly followedBySinceMs: number | null;
}

export interface FilterFacts {
  readonly type: NotificationType;
  readonly relationship: Relationship;
  readonly actorCreatedAtMs: number | null;
  readonly actorBot: boolean;
  readonly actorLimited: boolean;
  /** Visibility of the mentioned status, for the private-mention condition. */
  readonly statusVisibility: string | null;
  /** The recipient accepted this actor's notifications before. */
  readonly actorAccepted: boolean;
  readonly nowMs: number;
}

const DAY_MS = 86_400_000;
const FOLLOWER_MIN_AGE_MS = 3 * DAY_MS;
const NEW_ACCOUNT_AGE_MS = 30 * DAY_MS;

/** Which policy conditions hold for an event. */
export function matchedConditions(facts: FilterFacts): PolicyField[] {
  const { relationship: rel, nowMs } = facts;
  const followed = rel.following;
  const matched: PolicyField[] = [];
  if (!followed) matched.push('for_not_following');
  const longFollower =
    rel.followedBy && (rel.followedBySinceMs === null || nowMs - rel.followedBySinceMs >= FOLLOWER_MIN_AGE_MS);
  if (!longFollower) matched.push('for_not_followers');
  if (!followed && facts.actorCreatedAtMs !== null && nowMs - facts.actorCreatedAtMs < NEW_ACCOUNT_AGE_MS) {
    matched.push('for_new_accounts');
  }
  if (!followed && facts.type === 'mention' && facts.statusVisibility === 'direct') matched.push('for_private_mentions');
  if (!followed && facts.actorLimited) matched.push('for_limited_accounts');
  if (!followed && facts.actorBot) matched.push('for_bots');
  return matched;
}

export type FilterDecision = 'accept' | 'filter' | 'drop';

/** Drop wins over filter; types outside the filterable set and accepted actors always pass. */
export function decideFilter(policy: NotificationPolicy, facts: FilterFacts): FilterDecision {
  if (!FILTERABLE_TYPES.has(facts.type) || facts.actorAccepted) return 'accept';
  let decision: FilterDecision = 'accept';
  for (const field of matchedConditions(facts)) {
    const value = policy[field];
    if (value === 'drop') return 'drop';
    if (value === 'filter') decision = 'filter';
  }
  return decision;
}

/** Relationship flags as stored with a notification, so push policy can be re-checked at send time. */
export const packRelationship = (r: Pick<Relationship, 'following' | 'followedBy'>): number =>
  (r.following ? 1 : 0) | (r.followedBy ? 2 : 0);

export const unpackRelationship = (bits: number): Pick<Relationship, 'following' | 'followedBy'> => ({
  following: (bits & 1) !== 0,
  followedBy: (bits & 2) !== 0,
});
