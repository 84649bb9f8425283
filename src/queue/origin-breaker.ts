// The 401/403 burst breaker of SPEC §8.7 (deviation). One 401/403 means a dead subscription, and it is
// deleted as Mastodon does; but when one push-service origin refuses several *different* subscriptions
// within minutes, the likelier fault is ours (a rotated or wrong VAPID key, a subject the service
// rejects), and deleting would wipe out every subscription at that service. So the breaker trips:
// deletions stop and the origin is paused, to be tried again later.
//
// Its counts and pauses live in the database (SPEC §16): with any number of workers, at most
// threshold − 1 subscriptions of an origin are deleted before it is paused, and every worker honours the
// pause. The decision itself is pure (judgeRefusal); the store serializes decisions per origin.
import { recordRefusal, activePauses } from '../store/origin-health.js';
import type { Store } from '../store/open-store.js';

export interface OriginBreakerOptions {
  /** Distinct subscriptions refused within `windowMs` that trip the breaker. */
  readonly threshold: number;
  readonly windowMs: number;
  /** How long a tripped origin is left alone. */
  readonly pauseMs: number;
}

/** How stale another worker's pause may be when a worker decides whether to send. */
const REFRESH_EVERY_MS = 1_000;

export const DEFAULT_BREAKER: OriginBreakerOptions = { threshold: 3, windowMs: 5 * 60_000, pauseMs: 15 * 60_000 };

export type AuthFailureVerdict =
  /** An isolated refusal: treat the subscription as dead. */
  | { readonly kind: 'delete' }
  /** Part of a burst: keep the subscription and retry after the pause. `tripped` is true on the refusal that tripped it. */
  | { readonly kind: 'pause'; readonly until: number; readonly tripped: boolean; readonly refusals: number };

/**
 * What one more refusal means, given the distinct subscriptions refused within the window (this one
 * included) and the origin's pause. Pure; returns the pause to keep.
 */
export function judgeRefusal(
  state: { refusals: number; pausedUntil: number },
  now: number,
  options: OriginBreakerOptions,
): { verdict: AuthFailureVerdict; pausedUntil: number } {
  // Already paused: refusals still in flight when it tripped belong to the same burst.
  if (state.pausedUntil > now) {
    return { verdict: { kind: 'pause', until: state.pausedUntil, tripped: false, refusals: state.refusals }, pausedUntil: state.pausedUntil };
  }
  if (state.refusals >= options.threshold) {
    const until = now + options.pauseMs;
    return { verdict: { kind: 'pause', until, tripped: true, refusals: state.refusals }, pausedUntil: until };
  }
  return { verdict: { kind: 'delete' }, pausedUntil: state.pausedUntil };
}

export interface OriginBreaker {
  /** Records a 401/403 from `origin` for `subscriptionId` and says what to do with it. */
  recordAuthFailure(origin: string, subscriptionId: number, now: number): Promise<AuthFailureVerdict>;
  /** When the origin is paused, the time its pause ends; otherwise null. From the last refresh. */
  pausedUntil(origin: string, now: number): number | null;
  /** Reads every process's pauses again (the worker does before each claim). */
  refresh(now: number): Promise<void>;
  /** Origins currently paused, for metrics. */
  pausedOrigins(now: number): string[];
}

export function createOriginBreaker(store: Store, options: OriginBreakerOptions = DEFAULT_BREAKER): OriginBreaker {
  let pauses = new Map<string, number>();
  let refreshedAt = -Infinity;
  return {
    async recordAuthFailure(origin, subscriptionId, now) {
      const verdict = await recordRefusal(store, { origin, subscriptionId, now, windowMs: options.windowMs }, (state) =>
        judgeRefusal(state, now, options),
      );
      if (verdict.kind === 'pause') pauses.set(origin, verdict.until);
      return verdict;
    },
    pausedUntil(origin, now) {
      const until = pauses.get(origin) ?? 0;
      return until > now ? until : null;
    },
    async refresh(now) {
      // The worker claims many times a second under load; other workers' pauses need not be fresher than this.
      if (now - refreshedAt < REFRESH_EVERY_MS && now >= refreshedAt) return;
      refreshedAt = now;
      pauses = await activePauses(store.db, now);
    },
    pausedOrigins(now) {
      return [...pauses].filter(([, until]) => until > now).map(([origin]) => origin);
    },
  };
}
