// The 401/403 burst breaker of SPEC §8.7 (deviation). One 401/403 means a dead subscription, and it is
// deleted as Mastodon does; but when one push-service origin refuses several *different* subscriptions
// within minutes, the likelier fault is ours (a rotated or wrong VAPID key, a subject the service
// rejects), and deleting would wipe out every subscription at that service. So the breaker trips:
// deletions stop and the origin is paused, to be tried again later. Pure: the clock is an argument.

export interface OriginBreakerOptions {
  /** Distinct subscriptions refused within `windowMs` that trip the breaker. */
  readonly threshold: number;
  readonly windowMs: number;
  /** How long a tripped origin is left alone. */
  readonly pauseMs: number;
}

export const DEFAULT_BREAKER: OriginBreakerOptions = { threshold: 3, windowMs: 5 * 60_000, pauseMs: 15 * 60_000 };

export type AuthFailureVerdict =
  /** An isolated refusal: treat the subscription as dead. */
  | { readonly kind: 'delete' }
  /** Part of a burst: keep the subscription and retry after the pause. `tripped` is true on the refusal that tripped it. */
  | { readonly kind: 'pause'; readonly until: number; readonly tripped: boolean; readonly refusals: number };

export interface OriginBreaker {
  /** Records a 401/403 from `origin` for `subscriptionId` and says what to do with it. */
  recordAuthFailure(origin: string, subscriptionId: number, now: number): AuthFailureVerdict;
  /** When the origin is paused, the time its pause ends; otherwise null. */
  pausedUntil(origin: string, now: number): number | null;
  /** Origins currently paused, for metrics. */
  pausedOrigins(now: number): string[];
}

interface OriginState {
  /** subscription id → time of its latest refusal */
  refusals: Map<number, number>;
  pausedUntil: number;
}

/** Origins tracked at once; a flood of distinct origins forgets the oldest rather than growing. */
const MAX_ORIGINS = 1000;

export function createOriginBreaker(options: OriginBreakerOptions = DEFAULT_BREAKER): OriginBreaker {
  const origins = new Map<string, OriginState>();

  function stateOf(origin: string): OriginState {
    let state = origins.get(origin);
    if (!state) {
      if (origins.size >= MAX_ORIGINS) origins.delete(origins.keys().next().value!);
      state = { refusals: new Map(), pausedUntil: 0 };
      origins.set(origin, state);
    }
    return state;
  }

  return {
    recordAuthFailure(origin, subscriptionId, now) {
      const state = stateOf(origin);
      for (const [id, at] of state.refusals) if (now - at > options.windowMs) state.refusals.delete(id);
      state.refusals.set(subscriptionId, now);
      // Already paused: refusals still in flight when it tripped belong to the same burst.
      if (state.pausedUntil > now) return { kind: 'pause', until: state.pausedUntil, tripped: false, refusals: state.refusals.size };
      if (state.refusals.size >= options.threshold) {
        state.pausedUntil = now + options.pauseMs;
        return { kind: 'pause', until: state.pausedUntil, tripped: true, refusals: state.refusals.size };
      }
      return { kind: 'delete' };
    },
    pausedUntil(origin, now) {
      const until = origins.get(origin)?.pausedUntil ?? 0;
      return until > now ? until : null;
    },
    pausedOrigins(now) {
      return [...origins].filter(([, state]) => state.pausedUntil > now).map(([origin]) => origin);
    },
  };
}
