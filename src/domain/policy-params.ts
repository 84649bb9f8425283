// Reading policy updates from clients (SPEC §7): the v2 form with accept|filter|drop per condition, and the
// v1 form with booleans. Pure; a rejected update throws before anything is written.
import { validationFailed } from './errors.js';
import { isPolicyValue, POLICY_FIELDS, type NotificationPolicy, type PolicyField, type PolicyValue } from './notification-policy.js';
import { castBoolean } from './params.js';
import type { JsonObject } from './records.js';

/** Rails' humanized attribute name, for Mastodon's validation wording ("For not following …"). */
const humanize = (field: string): string => field.charAt(0).toUpperCase() + field.slice(1).replace(/_/g, ' ');

/**
 * v2: each field present must be `accept`, `filter` or `drop`; absent (or null) keeps the current value.
 * Any invalid value fails the whole update, naming every bad field.
 */
export function applyPolicyUpdate(current: NotificationPolicy, params: JsonObject): NotificationPolicy {
  const next: Record<PolicyField, PolicyValue> = { ...current };
  const errors: string[] = [];
  for (const field of POLICY_FIELDS) {
    const value = params[field];
    if (value === undefined || value === null) continue;
    if (isPolicyValue(value)) next[field] = value;
    else errors.push(`${humanize(field)} is not included in the list`);
  }
  if (errors.length > 0) throw validationFailed(...errors);
  return next;
}

/** The v1 booleans and the v2 fields they stand for. */
export const V1_FIELDS = {
  filter_not_following: 'for_not_following',
  filter_not_followers: 'for_not_followers',
  filter_new_accounts: 'for_new_accounts',
  filter_private_mentions: 'for_private_mentions',
} as const satisfies Record<string, PolicyField>;

type V1Field = keyof typeof V1_FIELDS;

/**
 * v1: Rails boolean casting; true means filter and false accept. A true sent for a condition already set
 * to `drop` keeps `drop`, since v1 reads `drop` as true: a client writing back what it read changes nothing.
 */
export function applyV1PolicyUpdate(current: NotificationPolicy, params: JsonObject): NotificationPolicy {
  const next: Record<PolicyField, PolicyValue> = { ...current };
  for (const [v1, field] of Object.entries(V1_FIELDS) as [V1Field, PolicyField][]) {
    const raw = params[v1];
    // Rails' strong parameters keep only scalars; arrays and objects are as good as absent.
    if (typeof raw === 'object' && raw !== null) continue;
    const flag = castBoolean(raw);
    if (flag === undefined) continue;
    next[field] = flag ? (current[field] === 'drop' ? 'drop' : 'filter') : 'accept';
  }
  return next;
}

/** The v1 view: a condition reads true unless it is accepted (`drop` reads as true). */
export function toV1Flags(policy: NotificationPolicy): Record<V1Field, boolean> {
  const out = {} as Record<V1Field, boolean>;
  for (const [v1, field] of Object.entries(V1_FIELDS) as [V1Field, PolicyField][]) out[v1] = policy[field] !== 'accept';
  return out;
}
