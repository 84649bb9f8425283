import { describe, expect, it } from 'vitest';
import {
  continueWalk,
  effectiveGroupKey,
  nextChunkSize,
  pageGroupRange,
  readGroupKey,
  readGroupedTypes,
  skippableKeys,
  startWalk,
  summarizeGroups,
  toGroupViews,
  ungroupedId,
  type GroupSampleRow,
  type GroupStatsRow,
} from '../../src/domain/grouping.js';
import { GROUPABLE_TYPES } from '../../src/domain/notification-types.js';

type Row = { id: number; type: string; group_key: string | null; from_account_id: string; created_at: number };
const row = (id: number, type: string, key: string | null, actor = `a${id}`): Row => ({
  id,
  type,
  group_key: key,
  from_account_id: actor,
  created_at: id * 1000,
});

describe('readGroupedTypes', () => {
  it.each([
    ['absent', undefined, [...GROUPABLE_TYPES]],
    ['a scalar (ignored)', 'follow', [...GROUPABLE_TYPES]],
    ['an empty list', [], [...GROUPABLE_TYPES]],
    ['one groupable type', ['follow'], ['follow']],
    ['groupable and not', ['favourite', 'mention', 'bogus'], ['favourite']],
    ['only unknown values', ['bogus'], []],
    ['only non-groupable types', ['mention'], []],
  ])('%s', (_name, value, expected) => {
    expect([...readGroupedTypes(value)].sort()).toEqual([...expected].sort());
  });
});

describe('effectiveGroupKey and ungroupedId', () => {
  it.each([
    [row(7, 'favourite', 'favourite-1-100'), GROUPABLE_TYPES, 'favourite-1-100'],
    [row(7, 'favourite', 'favourite-1-100'), new Set(['follow']), 'ungrouped-7'],
    [row(7, 'mention', null), GROUPABLE_TYPES, 'ungrouped-7'],
    [row(7, 'favourite', null), GROUPABLE_TYPES, 'ungrouped-7'],
    [row(9, 'admin.sign_up', 'admin.sign_up-5'), new Set<string>(), 'ungrouped-9'],
  ])('%j with %j → %s', (r, types, expected) => {
    expect(effectiveGroupKey(r, types)).toBe(expected);
  });

  it.each([
    ['ungrouped-12', 12],
    ['ungrouped-0', 0],
    ['ungrouped-', undefined],
    ['ungrouped-1x', undefined],
    ['ungrouped-1234567890123456', undefined],
    ['follow-12', undefined],
    ['admin.sign_up-483920', undefined],
  ])('%s → %s', (key, expected) => {
    expect(ungroupedId(key)).toBe(expected);
  });
});

describe('readGroupKey', () => {
  it.each([
    ['favourite-10-493000', 'favourite-10-493000'],
    ['admin.sign_up-483920', 'admin.sign_up-483920'],
    ['ungrouped-5', 'ungrouped-5'],
    ['', undefined],
    ['follow\u0000-1', undefined],
    [['follow-1'], undefined],
    [undefined, undefined],
  ])('%j → %j', (value, expected) => {
    expect(readGroupKey(value)).toBe(expected);
  });
});

describe('continueWalk', () => {
  const rows = [
    row(9, 'follow', 'follow-1'),
    row(8, 'mention', null),
    row(7, 'follow', 'follow-1'),
    row(6, 'favourite', 'favourite-3-1'),
    row(5, 'favourite', 'favourite-3-1'),
    row(4, 'favourite', 'favourite-4-1'),
  ];
  const ids = (w: { representatives: readonly Row[] }) => w.representatives.map((r) => r.id);

  it.each([
    ['every group, first row of each', rows, 10, GROUPABLE_TYPES, [9, 8, 6, 4]],
    ['stops at the limit', rows, 2, GROUPABLE_TYPES, [9, 8]],
    ['nothing groups', rows, 10, new Set<string>(), [9, 8, 7, 6, 5, 4]],
    ['only follows group', rows, 10, new Set(['follow']), [9, 8, 6, 5, 4]],
    ['oldest first keeps the oldest of each group', [...rows].reverse(), 10, GROUPABLE_TYPES, [4, 5, 7, 8]],
    ['a limit of 0', rows, 0, GROUPABLE_TYPES, []],
  ])('%s', (_name, input, limit, types, expected) => {
    expect(ids(continueWalk(startWalk<Row>(), input, limit, types))).toEqual(expected);
  });

  it('continues across slices without repeating a group, and names the keys a query may skip', () => {
    const first = continueWalk(startWalk<Row>(), rows.slice(0, 3), 10, GROUPABLE_TYPES);
    expect(skippableKeys(first)).toEqual(['follow-1']);
    const second = continueWalk(first, [row(3, 'follow', 'follow-1'), ...rows.slice(3)], 10, GROUPABLE_TYPES);
    expect(ids(second)).toEqual([9, 8, 6, 4]);
    expect(second.keys).toEqual(['follow-1', 'ungrouped-8', 'favourite-3-1', 'favourite-4-1']);
    expect(skippableKeys(second)).toEqual(['follow-1', 'favourite-3-1', 'favourite-4-1']);
    expect(ids(first)).toEqual([9, 8]); // the earlier walk is untouched
  });

  it.each([
    [1, 0, 9],
    [40, 0, 48],
    [80, 0, 88],
    [30, 1, 76],
    [30, 2, 152],
    [1, 40, 1000],
    [1000, 0, 1000],
  ])('asks for %i missing groups after %i slices with %i rows', (missing, slices, size) => {
    expect(nextChunkSize(missing, slices)).toBe(size);
  });
});

describe('pageGroupRange (SPEC §12 v2 page fields)', () => {
  const page = [row(30, 'mention', null), row(20, 'mention', null), row(10, 'mention', null)];
  it.each([
    ['a full page spans its representatives', page, true, { limit: 3 }, { lower: 10, upper: 30 }],
    ['a full page ignores the cursor', page, true, { limit: 3, sinceId: 2 }, { lower: 10, upper: 30 }],
    ['a short page reaches to the start', page, false, { limit: 5, maxId: 40 }, { lower: undefined, upper: 30 }],
    ['a short page reaches to since_id', page, false, { limit: 5, sinceId: 4 }, { lower: 5, upper: 30 }],
    ['a short page reaches to min_id', page, false, { limit: 5, minId: 7 }, { lower: 8, upper: 30 }],
    ['min_id wins over since_id', page, false, { limit: 5, minId: 7, sinceId: 2 }, { lower: 8, upper: 30 }],
    ['an empty page has no range', [], false, { limit: 5 }, {}],
  ])('%s', (_name, rows, full, query, expected) => {
    expect(pageGroupRange(rows, full, query)).toEqual(expected);
  });
});

describe('summarizeGroups and toGroupViews', () => {
  const stat = (key: string, count: number, min: number | null): GroupStatsRow => ({ group_key: key, count, min_id_in_range: min });
  const sample = (key: string, id: number, actor: string): GroupSampleRow => ({
    group_key: key,
    id,
    from_account_id: actor,
    created_at: id * 1000,
  });

  it.each([
    [
      'totals and samples, newest first',
      [stat('f', 3, 4)],
      [sample('f', 5, 'b'), sample('f', 9, 'c'), sample('f', 4, 'a')],
      { f: { count: 3, mostRecentId: 9, latestAt: 9000, minIdInRange: 4, sampleAccountIds: ['c', 'b', 'a'] } },
    ],
    [
      'no id from the lower bound: the newest stands for it',
      [stat('g', 12, null)],
      [sample('g', 100, 'x'), sample('g', 99, 'y')],
      { g: { count: 12, mostRecentId: 100, latestAt: 100000, minIdInRange: 100, sampleAccountIds: ['x', 'y'] } },
    ],
    [
      'at most 8 actors',
      [stat('h', 20, 1)],
      Array.from({ length: 9 }, (_, i) => sample('h', 50 - i, `x${i}`)),
      { h: { count: 20, mostRecentId: 50, latestAt: 50000, minIdInRange: 1, sampleAccountIds: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7'] } },
    ],
    ['a group without samples has no summary', [stat('k', 2, 1)], [], {}],
    [
      'a count below the samples seen (a race between the queries) is raised to them',
      [stat('m', 1, 3)],
      [sample('m', 4, 'p'), sample('m', 3, 'q')],
      { m: { count: 2, mostRecentId: 4, latestAt: 4000, minIdInRange: 3, sampleAccountIds: ['p', 'q'] } },
    ],
  ])('%s', (_name, stats, samples, expected) => {
    expect(Object.fromEntries(summarizeGroups(stats, samples))).toEqual(expected);
  });

  it.each([
    [
      'a real group takes its summary',
      row(8, 'follow', 'follow-1'),
      GROUPABLE_TYPES,
      { groupKey: 'follow-1', count: 2, mostRecentId: 9, sampleAccountIds: ['q', 'p'], page: { minId: 7, maxId: 9, latestAt: 9000 } },
    ],
    [
      'a single notification stands for itself',
      row(8, 'mention', null),
      GROUPABLE_TYPES,
      { groupKey: 'ungrouped-8', count: 1, mostRecentId: 8, sampleAccountIds: ['a8'], page: { minId: 8, maxId: 8, latestAt: 8000 } },
    ],
    [
      'a group not grouped on this request stands alone',
      row(8, 'follow', 'follow-1'),
      new Set<string>(),
      { groupKey: 'ungrouped-8', count: 1, mostRecentId: 8, sampleAccountIds: ['a8'], page: { minId: 8, maxId: 8, latestAt: 8000 } },
    ],
    [
      'a group whose summary vanished stands alone',
      row(8, 'favourite', 'favourite-2-1'),
      GROUPABLE_TYPES,
      { groupKey: 'favourite-2-1', count: 1, mostRecentId: 8, sampleAccountIds: ['a8'], page: { minId: 8, maxId: 8, latestAt: 8000 } },
    ],
  ])('%s', (_name, representative, types, expected) => {
    const summaries = summarizeGroups([stat('follow-1', 2, 7)], [sample('follow-1', 9, 'q'), sample('follow-1', 7, 'p')]);
    const [view] = toGroupViews([representative], summaries, types, true);
    expect({ ...view, representative: undefined }).toEqual({ ...expected, representative: undefined });
    const [bare] = toGroupViews([representative], summaries, types, false);
    expect(bare.page).toBeUndefined();
  });
});
