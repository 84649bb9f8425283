// Fixed-window rate limits (SPEC §1.7). Hand-written because a response must report the bucket closest to
// exhaustion across several buckets (token, account, paginated, IP), which the usual plugin cannot do.
//
// Across processes (SPEC §16) each process counts locally and adds its counts to the shared windows in the
// database every SYNC_EVERY_MS, learning the others' totals back: a decision is the last shared total plus
// what this process counted since. Measured against one database write per request, the batched sync keeps
// the hot path free of I/O (see the closing note of the several-processes work), and is off by at most
// the requests one process takes in one sync interval.
import type { WindowCount } from '../store/rate-limit-windows.js';

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
  resetAtMs: number;
  /** The shared total at the last sync (this process's counts included). */
  synced: number;
  /** Counted here and being added to the shared total right now. */
  flushing: number;
  /** Counted here since. */
  pending: number;
}

/** Where the windows are shared; absent, counts stay in this process (SQLite: one process). */
export interface SharedWindows {
  add(deltas: readonly WindowCount[]): Promise<WindowCount[]>;
  prune(before: number): Promise<void>;
  onError(error: unknown): void;
}

export const SYNC_EVERY_MS = 50;

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
  private syncScheduled = false;

  constructor(private readonly shared?: SharedWindows) {}

  /** Counts one request against every bucket; the answer describes the bucket closest to exhaustion. */
  consume(buckets: readonly Bucket[], now: number): RateDecision {
    this.sweep(now);
    let tightest: RateDecision | undefined;
    for (const bucket of buckets) {
      let window = this.windows.get(bucket.key);
      if (!window || window.resetAtMs <= now) {
        window = { resetAtMs: Math.floor(now / bucket.windowMs) * bucket.windowMs + bucket.windowMs, synced: 0, flushing: 0, pending: 0 };
        this.windows.set(bucket.key, window);
      }
      window.pending++;
      const count = window.synced + window.flushing + window.pending;
      const decision: RateDecision = {
        allowed: count <= bucket.limit,
        limit: bucket.limit,
        remaining: Math.max(0, bucket.limit - count),
        resetAtMs: window.resetAtMs,
      };
      if (!tightest || !decision.allowed || (tightest.allowed && decision.remaining < tightest.remaining)) {
        if (!tightest || tightest.allowed) tightest = decision;
      }
    }
    this.scheduleSync();
    return tightest!;
  }

  private scheduleSync(): void {
    if (!this.shared || this.syncScheduled) return;
    this.syncScheduled = true;
    setTimeout(() => {
      this.syncScheduled = false;
      this.sync().catch((error) => this.shared!.onError(error));
    }, SYNC_EVERY_MS).unref();
  }

  /** Adds what this process counted to the shared windows and takes their totals back. */
  async sync(): Promise<void> {
    if (!this.shared) return;
    const batch: [string, Window, number][] = [];
    for (const [key, window] of this.windows) {
      if (window.pending === 0 || window.flushing > 0) continue;
      batch.push([key, window, window.pending]);
      window.flushing = window.pending;
      window.pending = 0;
    }
    if (batch.length === 0) return;
    let totals: WindowCount[] | undefined;
    try {
      totals = await this.shared.add(batch.map(([key, window, count]) => ({ key, windowEnd: window.resetAtMs, count })));
    } finally {
      const byKey = new Map((totals ?? []).map((t) => [`${t.key} ${t.windowEnd}`, t.count]));
      for (const [key, window, count] of batch) {
        window.flushing = 0;
        const total = byKey.get(`${key} ${window.resetAtMs}`);
        // A failed sync keeps its counts here and offers them again with the next one.
        if (total === undefined) window.pending += count;
        else window.synced = total;
      }
      if (batch.some(([, window]) => window.pending > 0)) this.scheduleSync();
    }
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.resetAtMs <= now) this.windows.delete(key);
    this.shared?.prune(now - FIFTEEN_MINUTES).catch((error) => this.shared!.onError(error));
  }
}
