import { describe, expect, it } from 'vitest';
import { readExpandAccounts, splitGroupAccounts } from '../../src/domain/grouped-accounts.js';

describe('readExpandAccounts', () => {
  it.each([
    [undefined, 'full'],
    [null, 'full'],
    ['full', 'full'],
    ['partial_avatars', 'partial_avatars'],
  ])('%j → %s', (value, expected) => {
    expect(readExpandAccounts(value)).toBe(expected);
  });

  it.each([
    ['', "Invalid value for 'expand_accounts': '', allowed values are 'full' and 'partial_avatars'"],
    ['all', "Invalid value for 'expand_accounts': 'all', allowed values are 'full' and 'partial_avatars'"],
    [['full'], `Invalid value for 'expand_accounts': '["full"]', allowed values are 'full' and 'partial_avatars'`],
  ])('%j is a bad parameter', (value, message) => {
    expect(() => readExpandAccounts(value)).toThrow(expect.objectContaining({ code: 'ERR_BAD_PARAMETER', message }));
  });
});

describe('splitGroupAccounts', () => {
  const samples = [['a', 'b', 'c'], ['d'], ['b', 'a'], ['e', 'c', 'f']];
  it.each([
    ['full: every sampled actor once, in group order', 'full' as const, { full: ['a', 'b', 'c', 'd', 'e', 'f'] }],
    [
      'partial avatars: newest of each group in full, the rest partial, never both',
      'partial_avatars' as const,
      { full: ['a', 'd', 'b', 'e'], partial: ['c', 'f'] },
    ],
  ])('%s', (_name, expand, expected) => {
    expect(splitGroupAccounts(samples, expand)).toEqual(expected);
  });

  it('has nothing to split on an empty page', () => {
    expect(splitGroupAccounts([], 'partial_avatars')).toEqual({ full: [], partial: [] });
  });
});
