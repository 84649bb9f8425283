import { describe, expect, it } from 'vitest';

import { computeBackoffMs, MAX_BACKOFF_MS, parseRetryAfter, retryDelayMs } from '../../src/push/backoff.js';
import { classifyNetworkError, classifyPushResponse, type AttemptContext } from '../../src/push/classify-response.js';
import { PushError } from '../../src/push/push-errors.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const BASE = 10_000;
const HOUR = 3_600_000;
// random = 0.5 is the middle of the jitter range: exactly base × 2^(n−1).
const ctx: AttemptContext = { now: NOW, attempt: 1, baseMs: BASE, random: 0.5 };

describe('computeBackoffMs (SPEC §12 "Retries")', () => {
  it.each([
    // retry, random, expected
    [1, 0.5, 10_000],
    [2, 0.5, 20_000],
    [3, 0.5, 40_000],
    [4, 0.5, 80_000],
    [5, 0.5, 160_000],
    [1, 0, 7_500], // −25 %
    [1, 0.999_999, 12_500], // just under +25 %
    [5, 0, 120_000],
    [3, 0.25, 35_000],
  ])('retry %i with random %f waits %i ms', (retry, random, expected) => {
    expect(computeBackoffMs({ retry, baseMs: BASE, random })).toBe(expected);
  });

  it('caps at one hour, jitter included', () => {
    expect(computeBackoffMs({ retry: 5, baseMs: 30 * 60_000, random: 0.9 })).toBe(MAX_BACKOFF_MS);
    expect(computeBackoffMs({ retry: 40, baseMs: BASE, random: 0.5 })).toBe(MAX_BACKOFF_MS);
  });

  it('clamps a random value outside [0, 1)', () => {
    expect(computeBackoffMs({ retry: 1, baseMs: BASE, random: -3 })).toBe(7_500);
    expect(computeBackoffMs({ retry: 1, baseMs: BASE, random: Number.NaN })).toBe(7_500);
    expect(computeBackoffMs({ retry: 1, baseMs: BASE, random: 7 })).toBe(12_500);
  });
});

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Wed, 15 Jan 2025 12:02:00 GMT', 120_000], // IMF-fixdate
    ['Wednesday, 15-Jan-25 12:00:30 GMT', 30_000], // obsolete RFC 850 form
    ['Tue, 14 Jan 2025 12:00:00 GMT', 0], // in the past
    ['-5', null],
    ['1.5', null],
    ['soon', null],
    ['', null],
  ])('reads %j as %j ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it('reads the obsolete asctime form (zone-less, so only that it parses)', () => {
    expect(parseRetryAfter('Wed Jan 15 12:00:05 2025', NOW)).toEqual(expect.any(Number));
  });

  it('reads absence as null', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeNull();
    expect(parseRetryAfter(null, NOW)).toBeNull();
  });
});

describe('retryDelayMs', () => {
  it.each([
    ['no Retry-After', null, 10_000],
    ['a shorter Retry-After (ignored)', 5_000, 10_000],
    ['a longer Retry-After (replaces)', 90_000, 90_000],
    ['a Retry-After past the cap', 5 * HOUR, HOUR],
  ])('with %s', (_label, retryAfterMs, expected) => {
    expect(retryDelayMs({ retry: 1, baseMs: BASE, random: 0.5, retryAfterMs })).toBe(expected);
  });
});

describe('classifyPushResponse (SPEC §8.7)', () => {
  it.each([
    [200, 'delivered'],
    [201, 'delivered'],
    [202, 'delivered'],
    [204, 'delivered'],
    [404, 'gone'],
    [410, 'gone'],
    [400, 'gone'],
    [413, 'gone'],
    [415, 'gone'],
    [401, 'auth-failed'],
    [403, 'auth-failed'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [301, 'retry'],
    [307, 'retry'],
  ])('%i → %s', (status, kind) => {
    const outcome = classifyPushResponse({ ...ctx, status, headers: {} });
    expect(outcome.kind).toBe(kind);
    if (outcome.kind !== 'delivered') expect(outcome.reason).toContain(String(status));
  });

  it.each([
    [1, 10_000],
    [2, 20_000],
    [3, 40_000],
    [4, 80_000],
    [5, 160_000],
  ])('after attempt %i the retry waits %i ms', (attempt, delayMs) => {
    expect(classifyPushResponse({ ...ctx, attempt, status: 503 })).toEqual({
      kind: 'retry', status: 503, at: NOW + delayMs, delayMs, reason: 'push service answered 503',
    });
  });

  it('gives up after 5 retries', () => {
    const outcome = classifyPushResponse({ ...ctx, attempt: 6, status: 503 });
    expect(outcome).toMatchObject({ kind: 'give-up', status: 503 });
  });

  it.each([
    ['seconds, lower case', { 'retry-after': '300' }, 300_000],
    ['seconds, any case', { 'Retry-After': '300' }, 300_000],
    ['an array value', { 'retry-after': ['300'] }, 300_000],
    ['an HTTP date', { 'retry-after': 'Wed, 15 Jan 2025 12:30:00 GMT' }, 30 * 60_000],
    ['a Headers object', new Headers({ 'Retry-After': '300' }), 300_000],
    ['a value shorter than the backoff', { 'retry-after': '1' }, 10_000],
    ['a value past the cap', { 'retry-after': '86400' }, HOUR],
    ['a date past the cap', { 'retry-after': 'Thu, 16 Jan 2025 12:00:00 GMT' }, HOUR],
    ['garbage', { 'retry-after': 'later' }, 10_000],
  ])('honours Retry-After given as %s', (_label, headers, delayMs) => {
    const outcome = classifyPushResponse({ ...ctx, status: 429, headers });
    expect(outcome).toMatchObject({ kind: 'retry', delayMs, at: NOW + delayMs });
  });

  it('gives up rather than schedule past the deadline (the 48-hour limit)', () => {
    expect(classifyPushResponse({ ...ctx, status: 503, deadline: NOW + 5_000 }).kind).toBe('give-up');
    expect(classifyPushResponse({ ...ctx, status: 503, deadline: NOW + 10_000 }).kind).toBe('retry');
  });
});

describe('classifyNetworkError', () => {
  it('retries timeouts and resets with the same backoff', () => {
    const timeout = Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' });
    expect(classifyNetworkError({ ...ctx, attempt: 2, error: timeout })).toEqual({
      kind: 'retry', status: null, at: NOW + 20_000, delayMs: 20_000,
      reason: 'network error: UND_ERR_CONNECT_TIMEOUT Connect Timeout Error',
    });
    expect(classifyNetworkError({ ...ctx, error: new TypeError('fetch failed') }).kind).toBe('retry');
    expect(classifyNetworkError({ ...ctx, error: 'weird' }).kind).toBe('retry');
  });

  it('gives up after 5 retries', () => {
    expect(classifyNetworkError({ ...ctx, attempt: 6, error: new Error('ECONNRESET') }).kind).toBe('give-up');
  });

  it('gives up at once on our own refusal, keeping the subscription', () => {
    const refusal = new PushError('ERR_SUBSCRIPTION_INVALID_ENDPOINT', 'resolved to 10.0.0.1');
    expect(classifyNetworkError({ ...ctx, error: refusal })).toEqual({
      kind: 'give-up', status: null, reason: 'ERR_SUBSCRIPTION_INVALID_ENDPOINT: resolved to 10.0.0.1',
    });
  });
});
