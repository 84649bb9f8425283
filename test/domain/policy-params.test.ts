import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type NotificationPolicy } from '../../src/domain/notification-policy.js';
import { applyPolicyUpdate, applyV1PolicyUpdate, toV1Flags } from '../../src/domain/policy-params.js';

const withDrop: NotificationPolicy = { ...DEFAULT_POLICY, for_not_following: 'drop', for_bots: 'drop' };

describe('applyPolicyUpdate (v2)', () => {
  it.each([
    ['nothing sent', {}, DEFAULT_POLICY],
    ['one field', { for_bots: 'drop' }, { ...DEFAULT_POLICY, for_bots: 'drop' }],
    ['null keeps the value', { for_private_mentions: null }, DEFAULT_POLICY],
    ['unknown keys are ignored', { for_everyone: 'drop', summary: 1 }, DEFAULT_POLICY],
    [
      'every field',
      { for_not_following: 'filter', for_not_followers: 'drop', for_new_accounts: 'filter', for_private_mentions: 'accept', for_limited_accounts: 'drop', for_bots: 'filter' },
      { for_not_following: 'filter', for_not_followers: 'drop', for_new_accounts: 'filter', for_private_mentions: 'accept', for_limited_accounts: 'drop', for_bots: 'filter' },
    ],
  ])('%s', (_name, params, expected) => {
    expect(applyPolicyUpdate(DEFAULT_POLICY, params)).toEqual(expected);
  });

  it.each([
    [{ for_bots: 'Drop' }, 'Validation failed: For bots is not included in the list'],
    [{ for_bots: true }, 'Validation failed: For bots is not included in the list'],
    [{ for_new_accounts: '' }, 'Validation failed: For new accounts is not included in the list'],
    [
      { for_not_following: ['accept'], for_not_followers: 'accept', for_limited_accounts: 2 },
      'Validation failed: For not following is not included in the list, For limited accounts is not included in the list',
    ],
  ])('refuses %j as a whole', (params, message) => {
    expect(() => applyPolicyUpdate(DEFAULT_POLICY, params)).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION', message }));
  });
});

describe('applyV1PolicyUpdate', () => {
  it.each([
    ['true filters', DEFAULT_POLICY, { filter_new_accounts: 'true' }, { for_new_accounts: 'filter' }],
    ['false accepts', DEFAULT_POLICY, { filter_private_mentions: 'false' }, { for_private_mentions: 'accept' }],
    ['JSON booleans', DEFAULT_POLICY, { filter_not_following: true, filter_private_mentions: false }, { for_not_following: 'filter', for_private_mentions: 'accept' }],
    ['0 is false', DEFAULT_POLICY, { filter_private_mentions: 0 }, { for_private_mentions: 'accept' }],
    ['"off" is false', DEFAULT_POLICY, { filter_private_mentions: 'off' }, { for_private_mentions: 'accept' }],
    ['any other text is true', DEFAULT_POLICY, { filter_not_followers: 'nope' }, { for_not_followers: 'filter' }],
    ['"" is unset', DEFAULT_POLICY, { filter_private_mentions: '' }, {}],
    ['arrays are unset', DEFAULT_POLICY, { filter_private_mentions: ['false'] }, {}],
    ['true keeps drop', withDrop, { filter_not_following: '1' }, {}],
    ['false replaces drop', withDrop, { filter_not_following: 'f' }, { for_not_following: 'accept' }],
    ['v2-only fields are not v1 fields', withDrop, { for_bots: 'accept', filter_bots: 'false' }, {}],
  ])('%s', (_name, current, params, changes) => {
    expect(applyV1PolicyUpdate(current, params)).toEqual({ ...current, ...changes });
  });
});

describe('toV1Flags', () => {
  it.each([
    [DEFAULT_POLICY, { filter_not_following: false, filter_not_followers: false, filter_new_accounts: false, filter_private_mentions: true }],
    [withDrop, { filter_not_following: true, filter_not_followers: false, filter_new_accounts: false, filter_private_mentions: true }],
  ])('%j', (policy, expected) => {
    expect(toV1Flags(policy)).toEqual(expected);
  });
});
