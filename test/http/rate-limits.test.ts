// Rate limits (SPEC §1.7): per token, per account, paginated per account, per IP for the unauthenticated;
// headers of the bucket closest to exhaustion on every API response.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { bucketsFor, maskIp, RateLimiter } from '../../src/http/rate-limit.js';
import { countRows } from '../support/snapshot.js';
import { createTestApp, ENGINES, START_TIME, type TestApp } from '../support/test-app.js';

const LIMITS = { perToken: 3, perAccount: 5, paginatedPerAccount: 2, perIp: 3 };
const FIVE_MINUTES_END = new Date(START_TIME + 5 * 60_000).toISOString();
const FIFTEEN_MINUTES_END = new Date(START_TIME + 15 * 60_000).toISOString();

function limitHeaders(res: LightMyRequestResponse): { limit: number; remaining: number; reset: string } {
  return {
    limit: Number(res.headers['x-ratelimit-limit']),
    remaining: Number(res.headers['x-ratelimit-remaining']),
    reset: String(res.headers['x-ratelimit-reset']),
  };
}

function expectTooMany(res: LightMyRequestResponse): void {
  expect(res.statusCode).toBe(429);
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(res.json()).toEqual({ error: 'Too many requests' });
  expect(res.headers['x-ratelimit-remaining']).toBe('0');
}

describe.each(ENGINES)('rate limits on %s', (engine) => {
  let t: TestApp;

  beforeEach(async () => {
    t = await createTestApp(engine, { rateLimits: LIMITS });
    await t.account('1');
    await t.account('2');
  });
  afterEach(() => t.close());

  const get = (token: string | undefined, url: string, remoteAddress = '198.51.100.7') =>
    t.app.inject({ method: 'GET', url, remoteAddress, headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('limits a token to its budget per window, with exact headers and the 429 body', async () => {
    const token = await t.token('1', 'read');
    for (let i = 1; i <= 3; i++) {
      const res = await get(token, '/api/v1/notifications');
      expect(res.statusCode).toBe(200);
      expect(limitHeaders(res)).toEqual({ limit: 3, remaining: 3 - i, reset: FIVE_MINUTES_END });
    }
    const over = await get(token, '/api/v1/notifications');
    expectTooMany(over);
    expect(limitHeaders(over)).toEqual({ limit: 3, remaining: 0, reset: FIVE_MINUTES_END });
    // A new window opens at the reset time.
    t.clock.now = Date.parse(FIVE_MINUTES_END);
    const next = await get(token, '/api/v1/notifications');
    expect(next.statusCode).toBe(200);
    expect(limitHeaders(next)).toEqual({ limit: 3, remaining: 2, reset: new Date(START_TIME + 10 * 60_000).toISOString() });
  });

  it('changes nothing for a request refused with 429', async () => {
    const token = await t.token('1', 'read write');
    await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    for (let i = 0; i < 3; i++) await get(token, '/api/v1/notifications/unread_count');
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/notifications/clear', headers: { authorization: `Bearer ${token}` } });
    expectTooMany(res);
    expect(await countRows(t.store, 'notifications')).toBe(1);
  });

  it('counts every token of an account against the account, and reports the bucket closest to exhaustion', async () => {
    const first = await t.token('1', 'read');
    const second = await t.token('1', 'read');
    for (let i = 0; i < 3; i++) await get(first, '/api/v1/notifications');
    // Account: 4 of 5 used (1 left); this token: 1 of 3 used (2 left). The account is closer.
    const fourth = await get(second, '/api/v1/notifications');
    expect(fourth.statusCode).toBe(200);
    expect(limitHeaders(fourth)).toEqual({ limit: 5, remaining: 1, reset: FIVE_MINUTES_END });
    expect(limitHeaders(await get(second, '/api/v1/notifications'))).toEqual({ limit: 5, remaining: 0, reset: FIVE_MINUTES_END });
    const sixth = await get(second, '/api/v1/notifications');
    expectTooMany(sixth);
    expect(limitHeaders(sixth).limit).toBe(5);
    // Another account is not affected.
    const alice = await t.token('2', 'read');
    expect(limitHeaders(await get(alice, '/api/v1/notifications'))).toEqual({ limit: 3, remaining: 2, reset: FIVE_MINUTES_END });
  });

  it.each(['max_id', 'since_id', 'min_id'])('counts requests with %s against the paginated bucket of 15 minutes', async (cursor) => {
    const first = await t.token('1', 'read');
    const second = await t.token('1', 'read');
    const paged = `/api/v1/notifications?${cursor}=100`;
    const one = await get(first, paged);
    expect(one.statusCode).toBe(200);
    expect(limitHeaders(one)).toEqual({ limit: 2, remaining: 1, reset: FIFTEEN_MINUTES_END });
    expect(limitHeaders(await get(first, paged)).remaining).toBe(0);
    expectTooMany(await get(second, paged));
    // Unpaginated requests still pass: only the paginated bucket is spent.
    const plain = await get(second, '/api/v1/notifications');
    expect(plain.statusCode).toBe(200);
    // The paginated bucket outlives the five-minute ones.
    t.clock.now = Date.parse(FIVE_MINUTES_END);
    expectTooMany(await get(second, paged));
    t.clock.now = Date.parse(FIFTEEN_MINUTES_END);
    expect((await get(second, paged)).statusCode).toBe(200);
  });

  it('limits unauthenticated requests per IP, and counts invalid tokens there too', async () => {
    const ip = '203.0.113.5';
    const a = await get(undefined, '/api/v1/instance', ip);
    expect(a.statusCode).toBe(200);
    expect(limitHeaders(a)).toEqual({ limit: 3, remaining: 2, reset: FIVE_MINUTES_END });
    const b = await get('no-such-token', '/api/v1/notifications', ip);
    expect(b.statusCode).toBe(401);
    expect(limitHeaders(b)).toEqual({ limit: 3, remaining: 1, reset: FIVE_MINUTES_END });
    expect((await get(undefined, '/api/v2/instance', ip)).statusCode).toBe(200);
    expectTooMany(await get(undefined, '/api/v1/instance', ip));
    expectTooMany(await get('no-such-token', '/api/v1/notifications', ip));
    // Another address has its own budget; a token holder is counted by token, not by address.
    expect((await get(undefined, '/api/v1/instance', '203.0.113.6')).statusCode).toBe(200);
    const token = await t.token('1', 'read');
    expect((await get(token, '/api/v1/notifications', ip)).statusCode).toBe(200);
  });

  it('puts IPv6 clients of one /64 in one bucket', async () => {
    for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2:aaaa::9', '2001:0db8:0001:0002:ffff:ffff:ffff:ffff']) {
      expect((await get(undefined, '/api/v1/instance', ip)).statusCode).toBe(200);
    }
    expectTooMany(await get(undefined, '/api/v1/instance', '2001:db8:1:2::77'));
    expect((await get(undefined, '/api/v1/instance', '2001:db8:1:3::1')).statusCode).toBe(200);
  });

  it('puts the headers on every API response, errors included', async () => {
    const token = await t.token('1', 'read');
    const other = await t.token('2', 'read');
    const appOnly = await t.token(null, 'read');
    const responses = [
      await get(token, '/api/v1/notifications'),
      await get(token, '/api/v1/notifications/999999'),
      await get(token, '/api/v1/notifications?max_id=abc'),
      await t.app.inject({ method: 'POST', url: '/api/v1/notifications/clear', headers: { authorization: `Bearer ${other}` } }),
      await get(appOnly, '/api/v1/notifications'),
      await get(undefined, '/api/v1/notifications'),
      await get(undefined, '/api/v2/instance'),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([200, 404, 400, 403, 422, 401, 200]);
    for (const res of responses) {
      expect(res.headers['x-ratelimit-limit']).toMatch(/^\d+$/);
      expect(res.headers['x-ratelimit-remaining']).toMatch(/^\d+$/);
      expect(res.headers['x-ratelimit-reset']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
  });

  // Regression: a body the parser refused (bad JSON, too large, unsupported type) was answered before the
  // limiter ran: no headers, and the request was never counted.
  it('counts and labels requests whose body is refused', async () => {
    const token = await t.token('1', 'write');
    const auth = { authorization: `Bearer ${token}` };
    const bad = [
      await t.app.inject({ method: 'POST', url: '/api/v1/markers', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"no' }),
      await t.app.inject({ method: 'POST', url: '/api/v1/markers', headers: { ...auth, 'content-type': 'text/csv' }, payload: 'a,b' }),
    ];
    expect(bad.map((r) => r.statusCode)).toEqual([400, 415]);
    expect(bad.map((r) => limitHeaders(r).remaining)).toEqual([2, 1]);
    const big = await t.app.inject({
      method: 'POST',
      url: '/api/v1/markers',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ home: { last_read_id: 'x'.repeat(1024 * 1024) } }),
    });
    expect(big.statusCode).toBe(413);
    expect(limitHeaders(big).remaining).toBe(0);
    expectTooMany(await t.app.inject({ method: 'POST', url: '/api/v1/markers', headers: auth, payload: { home: { last_read_id: '1' } } }));
  });

  it('does not limit when limits are off', async () => {
    const open = await createTestApp(engine, { rateLimits: null });
    try {
      for (let i = 0; i < 5; i++) {
        const res = await open.client(undefined, 'GET', '/api/v1/instance');
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      }
    } finally {
      await open.close();
    }
  });
});

describe('maskIp', () => {
  it.each([
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:0003:0004:0005:0006', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:1::', '2001:db8:1:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['fe80::1:2:3:4', 'fe80:0:0:0::/64'],
    ['2001:db8:1:2::', '2001:db8:1:2::/64'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['192.0.2.1', '192.0.2.1'],
  ])('masks %s to %s', (ip, masked) => {
    expect(maskIp(ip)).toBe(masked);
  });

  it('gives every address of one /64 the same key and neighbours different ones', () => {
    expect(maskIp('2001:db8:aa:bb:1::')).toBe(maskIp('2001:db8:aa:bb:ffff:ffff:ffff:ffff'));
    expect(maskIp('2001:db8:aa:bb::1')).not.toBe(maskIp('2001:db8:aa:bc::1'));
  });
});

describe('RateLimiter', () => {
  it('reports the refusing bucket even when a later bucket has less left', () => {
    const limiter = new RateLimiter();
    const buckets = bucketsFor({ tokenId: 1, accountId: 'a', ip: '192.0.2.1', paginated: true }, { ...LIMITS, perToken: 1 });
    limiter.consume(buckets, START_TIME);
    const second = limiter.consume(buckets, START_TIME);
    expect(second).toMatchObject({ allowed: false, limit: 1, remaining: 0 });
  });

  it('aligns windows to their length', () => {
    const limiter = new RateLimiter();
    const decision = limiter.consume([{ key: 'k', limit: 2, windowMs: 5 * 60_000 }], START_TIME + 61_000);
    expect(new Date(decision.resetAtMs).toISOString()).toBe(FIVE_MINUTES_END);
  });
});
