import { describe, expect, it } from 'vitest';
import { createOriginBreaker } from '../../src/queue/origin-breaker.js';

const MIN = 60_000;
const FCM = 'https://fcm.googleapis.com';

describe('origin breaker (SPEC §8.7, 401/403 bursts)', () => {
  const breaker = () => createOriginBreaker({ threshold: 3, windowMs: 5 * MIN, pauseMs: 15 * MIN });

  it('lets isolated refusals delete their subscription', () => {
    const b = breaker();
    expect(b.recordAuthFailure(FCM, 1, 0)).toEqual({ kind: 'delete' });
    expect(b.recordAuthFailure(FCM, 2, 6 * MIN)).toEqual({ kind: 'delete' });
    expect(b.recordAuthFailure(FCM, 3, 12 * MIN)).toEqual({ kind: 'delete' });
    expect(b.pausedUntil(FCM, 12 * MIN)).toBeNull();
  });

  it('trips on distinct subscriptions within the window and pauses the origin', () => {
    const b = breaker();
    b.recordAuthFailure(FCM, 1, 0);
    b.recordAuthFailure(FCM, 2, MIN);
    expect(b.recordAuthFailure(FCM, 3, 2 * MIN)).toEqual({ kind: 'pause', until: 17 * MIN, tripped: true, refusals: 3 });
    expect(b.recordAuthFailure(FCM, 4, 3 * MIN)).toMatchObject({ kind: 'pause', until: 17 * MIN, tripped: false });
    expect(b.pausedUntil(FCM, 16 * MIN)).toBe(17 * MIN);
    expect(b.pausedUntil(FCM, 17 * MIN)).toBeNull();
    expect(b.pausedOrigins(10 * MIN)).toEqual([FCM]);
    // Other origins are not affected.
    expect(b.pausedUntil('https://updates.push.services.mozilla.com', 10 * MIN)).toBeNull();
  });

  it('counts one subscription refusing again only once', () => {
    const b = breaker();
    for (let i = 0; i < 5; i++) expect(b.recordAuthFailure(FCM, 7, i * 1000)).toEqual({ kind: 'delete' });
  });

  it('trips again right after a pause when the refusals go on', () => {
    const b = breaker();
    b.recordAuthFailure(FCM, 1, 0);
    b.recordAuthFailure(FCM, 2, 0);
    b.recordAuthFailure(FCM, 3, 0);
    expect(b.recordAuthFailure(FCM, 4, 15 * MIN + 1)).toMatchObject({ kind: 'delete' });
    b.recordAuthFailure(FCM, 5, 15 * MIN + 2);
    expect(b.recordAuthFailure(FCM, 6, 15 * MIN + 3)).toMatchObject({ kind: 'pause', tripped: true });
  });
});
