import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  decideFilter,
  matchedConditions,
  POLICY_FIELDS,
  type FilterFacts,
  type PolicyField,
} from '../../src/domain/notification-policy.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const DAY = 86_400_000;

/** A long-time mutual follow with an old, human account: no condition holds. */
const friend: FilterFacts = {
  type: 'mention',
  relationship: { following: true, followedBy: true, followedBySinceMs: NOW - 30 * DAY },
  actorCreatedAtMs: NOW - 365 * DAY,
  actorBot: false,
  actorLimited: false,
  statusVisibility: 'public',
  actorAccepted: false,
  nowMs: NOW,
};

const stranger = { following: false, followedBy: false, followedBySinceMs: null };

describe('notification policy conditions', () => {
  it.each<[string, Partial<FilterFacts>, PolicyField[]]>([
    ['a long-time mutual follow', {}, []],
    ['a stranger', { relationship: stranger }, ['for_not_following', 'for_not_followers']],
    ['someone the recipient follows but who does not follow back', { relationship: { ...stranger, following: true } }, ['for_not_followers']],
    ['a follower of less than 3 days', { relationship: { following: true, followedBy: true, followedBySinceMs: NOW - 2 * DAY } }, ['for_not_followers']],
    ['a follower of unknown age', { relationship: { following: true, followedBy: true, followedBySinceMs: null } }, []],
    ['a new account not followed', { relationship: { ...stranger, followedBy: true }, actorCreatedAtMs: NOW - 10 * DAY }, ['for_not_following', 'for_new_accounts']],
    ['a new account that is followed', { actorCreatedAtMs: NOW - 10 * DAY }, []],
    ['a direct mention from someone not followed', { relationship: { ...stranger, followedBy: true }, statusVisibility: 'direct' }, ['for_not_following', 'for_private_mentions']],
    ['a direct mention from someone followed', { statusVisibility: 'direct' }, []],
    ['a direct favourite is no private mention', { type: 'favourite', relationship: { ...stranger, followedBy: true }, statusVisibility: 'direct' }, ['for_not_following']],
    ['a limited account not followed', { relationship: { ...stranger, followedBy: true }, actorLimited: true }, ['for_not_following', 'for_limited_accounts']],
    ['a bot not followed', { relationship: { ...stranger, followedBy: true }, actorBot: true }, ['for_not_following', 'for_bots']],
    ['a bot that is followed', { actorBot: true }, []],
  ])('%s', (_name, facts, expected) => {
    expect(matchedConditions({ ...friend, ...facts }).sort()).toEqual([...expected].sort());
  });
});

describe('decideFilter', () => {
  const only = (field: PolicyField, value: 'accept' | 'filter' | 'drop') => {
    const policy = Object.fromEntries(POLICY_FIELDS.map((f) => [f, 'accept'])) as Record<PolicyField, 'accept'>;
    return { ...policy, [field]: value };
  };

  it.each(POLICY_FIELDS.flatMap((field) => (['accept', 'filter', 'drop'] as const).map((value) => [field, value] as const)))(
    '%s = %s decides for a matching event',
    (field, value) => {
      const facts: FilterFacts = {
        ...friend,
        relationship: { following: false, followedBy: true, followedBySinceMs: NOW - 100 * DAY },
        actorCreatedAtMs: NOW - DAY,
        actorBot: true,
        actorLimited: true,
        statusVisibility: 'direct',
      };
      const expected = field === 'for_not_followers' ? 'accept' : value; // the actor is a long-time follower
      expect(decideFilter(only(field, value), facts)).toBe(expected);
    },
  );

  it('lets drop win over filter', () => {
    const policy = { ...only('for_not_following', 'filter'), for_not_followers: 'drop' as const };
    expect(decideFilter(policy, { ...friend, relationship: stranger })).toBe('drop');
  });

  it('never filters unfilterable types or accepted actors', () => {
    const strict = Object.fromEntries(POLICY_FIELDS.map((f) => [f, 'drop'])) as unknown as typeof DEFAULT_POLICY;
    expect(decideFilter(strict, { ...friend, relationship: stranger, type: 'poll' })).toBe('accept');
    expect(decideFilter(strict, { ...friend, relationship: stranger, type: 'admin.sign_up' })).toBe('accept');
    expect(decideFilter(strict, { ...friend, relationship: stranger, actorAccepted: true })).toBe('accept');
    expect(decideFilter(strict, { ...friend, relationship: stranger })).toBe('drop');
  });

  it('filters private mentions from strangers by default, and nothing else', () => {
    expect(decideFilter(DEFAULT_POLICY, { ...friend, relationship: stranger, statusVisibility: 'direct' })).toBe('filter');
    expect(decideFilter(DEFAULT_POLICY, { ...friend, relationship: stranger })).toBe('accept');
  });
});
