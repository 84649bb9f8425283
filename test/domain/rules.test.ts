// Table-driven tests of the small pure rules: Rails parameter casting, pagination links, group buckets.
import { describe, expect, it } from 'vitest';
import { chooseBucket, groupKeyOf, groupPrefix, hourBucket } from '../../src/domain/group-key.js';
import { buildLinkHeader, encodeQuery, pageRange } from '../../src/domain/pagination.js';
import { castBoolean, parseCursor, parseLimit, rubyToInt } from '../../src/domain/params.js';

describe('Rails parameter casting', () => {
  it.each([
    [false, false], [0, false], ['0', false], ['f', false], ['F', false], ['false', false], ['FALSE', false],
    ['off', false], ['OFF', false], ['', undefined], [undefined, undefined], [null, undefined],
    ['true', true], ['1', true], ['yes', true], ['False', true], [true, true], ['anything', true],
  ])('castBoolean(%j) is %j', (input, expected) => expect(castBoolean(input)).toBe(expected));

  it.each([
    ['5.9', 5], [' 7', 7], ['1e3', 1], ['abc', 0], ['-3', -3], ['+4', 4], ['1_000', 1000], ['', 0], [12, 12], [[1], 0],
  ])('rubyToInt(%j) is %j', (input, expected) => expect(rubyToInt(input)).toBe(expected));

  it.each([
    [undefined, 40], ['0', 0], ['-5', 5], ['500', 80], ['abc', 0], [['1'], 0], ['20', 20],
  ])('parseLimit(%j) is %j', (input, expected) => expect(parseLimit(input, 40, 80)).toBe(expected));

  it('reads cursors, refusing anything but a non-negative integer', () => {
    expect(parseCursor(undefined, 'max_id')).toBeUndefined();
    expect(parseCursor('', 'max_id')).toBeUndefined();
    expect(parseCursor('42', 'max_id')).toBe(42);
    for (const bad of ['-1', 'abc', '1.5', ['1'], { a: 1 }]) expect(() => parseCursor(bad, 'min_id')).toThrow('Invalid min_id');
  });
});

describe('pagination', () => {
  it('walks down without min_id and up with it, ignoring since_id beside min_id', () => {
    expect(pageRange({ limit: 5, maxId: 10, sinceId: 2 })).toEqual({ lower: 2, upper: 10, ascending: false });
    expect(pageRange({ limit: 5, maxId: 10, sinceId: 2, minId: 4 })).toEqual({ lower: 4, upper: 10, ascending: true });
  });

  it('encodes queries with sorted keys and bracketed arrays', () => {
    expect(encodeQuery({ types: ['a', 'b c'], limit: '2', account_id: 'x&y' })).toBe(
      'account_id=x%26y&limit=2&types%5B%5D=a&types%5B%5D=b%20c',
    );
  });

  it('links next only on a full page, and nothing for an empty one', () => {
    const url = 'https://h.test/api/v1/notifications';
    expect(buildLinkHeader({ url, filters: {}, newest: 9, oldest: 5, full: true })).toBe(
      `<${url}?max_id=5>; rel="next", <${url}?min_id=9>; rel="prev"`,
    );
    expect(buildLinkHeader({ url, filters: {}, newest: 9, oldest: 5, full: false })).toBe(`<${url}?min_id=9>; rel="prev"`);
    expect(buildLinkHeader({ url, filters: {}, newest: undefined, oldest: undefined, full: false })).toBeUndefined();
  });
});

describe('group buckets', () => {
  const at = (iso: string) => hourBucket(Date.parse(iso));
  it.each([
    ['no previous bucket', at('2026-11-22T10:30:00Z'), null, at('2026-11-22T10:30:00Z')],
    ['same hour', at('2026-11-22T10:59:00Z'), at('2026-11-22T10:00:00Z'), at('2026-11-22T10:00:00Z')],
    ['11 hours later', at('2026-11-22T21:10:00Z'), at('2026-11-22T10:00:00Z'), at('2026-11-22T10:00:00Z')],
    ['12 hours later starts anew', at('2026-11-22T22:00:00Z'), at('2026-11-22T10:00:00Z'), at('2026-11-22T22:00:00Z')],
    ['an event older than the previous bucket keeps its own', at('2026-11-22T08:00:00Z'), at('2026-11-22T10:00:00Z'), at('2026-11-22T08:00:00Z')],
  ])('%s', (_name, event, previous, expected) => expect(chooseBucket(event, previous)).toBe(expected));

  it('keys favourites and reblogs by status, follows and sign-ups by type, and nothing else', () => {
    expect(groupPrefix('favourite', '10')).toBe('favourite-10');
    expect(groupPrefix('reblog', '10')).toBe('reblog-10');
    expect(groupPrefix('follow', null)).toBe('follow');
    expect(groupPrefix('admin.sign_up', null)).toBe('admin.sign_up');
    expect(groupPrefix('mention', '10')).toBeNull();
    expect(groupKeyOf('favourite-10', 491234)).toBe('favourite-10-491234');
  });
});
