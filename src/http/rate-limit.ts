// Fixed-window rate limits (SPEC §1.7). Hand-written because a response must report the bucket closest to
// exhaustion across several buckets (token, account, paginated, IP), which the usual plugin cannot do.
// Counters live in this process; a multi-process deployment gets each limit per process.

export interface Bucket {
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  readonly resetAtMs: number;
}

interface Window {
  count: number;
  resetAtMs: number;
}

export interface RateLimits {
  readonly perToken: number;
  readonly perAccount: number;
  readonly paginatedPerAccount: number;
  readonly perIp: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { perToken: 300, perAccount: 1500, paginatedPerAccount: 300, perIp: 300 };

const FIVE_MINUTES = 5 * 60_000;
const FIFTEEN_MINUTES = 15 * 60_000;

export function bucketsFor(
  who: { tokenId?: number; accountId?: string | null; ip: string; paginated: boolean },
  limits: RateLimits,
): Bucket[] {
  if (who.tokenId === undefined) return [{ key: `ip:${maskIp(who.ip)}`, limit: limits.perIp, windowMs: FIVE_MINUTES }];
  const buckets: Bucket[] = [{ key: `token:${who.tokenId}`, limit: limits.perToken, windowMs: FIVE_MINUTES }];
  if (who.accountId) {
    buckets.push({ key: `account:${who.accountId}`, limit: limits.perAccount, windowMs: FIVE_MINUTES });
    if (who.paginated) {
      buckets.push({ key: `paginated:${who.accountId}`, limit: limits.paginatedPerAccount, windowMs: FIFTEEN_MINUTES });
    }
  }
  return buckets;
}

/** IPv6 clients are limited per /64: one subscriber usually holds the whole prefix. */
export function maskIp(ip: string): string {
  if (!ip.includes(':') || ip.startsWith('::ffff:')) return ip.replace(/^::ffff:/, '');
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class RateLimiter {
  private readonly windows = new Map<string, Window>();
  private lastSweep = 0;

  /** Counts one request against every bucket; the answer describes the bucket closest to exhaustion. */
  consume(buckets: readonly Bucket[], now: number): RateDecision {
    this.sweep(now);
    let tightest: RateDecision | undefined;
    for (const bucket of buckets) {
      let window = this.windows.get(bucket.key);
      if (!window || window.resetAtMs <= now) {
        window = { count: 0, resetAtMs: Math.floor(now / bucket.windowMs) * bucket.windowMs + bucket.windowMs };
        this.windows.set(bucket.key, window);
      }
      window.count++;
      const decision: RateDecision = {
        allowed: window.count <= bucket.limit,
        limit: bucket.limit,
        remaining: Math.max(0, bucket.limit - window.count),
        resetAtMs: window.resetAtMs,
      };
      if (!tightest || !decision.allowed || (tightest.allowed && decision.remaining < tightest.remaining)) {
        if (!tightest || tightest.allowed) tightest = decision;
      }
    }
    return tightest!;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.resetAtMs <= now) this.windows.delete(key);
  }
}
