// The 401/403 burst breaker (SPEC §8.7, §16) with its state in the database, on both engines: the pure
// decision, and the shared breaker that several workers (here, several breakers on one store) consult.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOriginBreaker, judgeRefusal, type OriginBreaker } from '../../src/queue/origin-breaker.js';
import { createTestStore, ENGINES, type TestStore } from '../support/test-app.js';

const MIN = 60_000;
const FCM = 'https://fcm.googleapis.com';
const OPTIONS = { threshold: 3, windowMs: 5 * MIN, pauseMs: 15 * MIN };

describe('judgeRefusal', () => {
  it.each([
    [{ refusals: 1, pausedUntil: 0 }, 0, { verdict: { kind: 'delete' }, pausedUntil: 0 }],
    [{ refusals: 2, pausedUntil: 0 }, 0, { verdict: { kind: 'delete' }, pausedUntil: 0 }],
    [{ refusals: 3, pausedUntil: 0 }, MIN, { verdict: { kind: 'pause', until: 16 * MIN, tripped: true, refusals: 3 }, pausedUntil: 16 * MIN }],
    [{ refusals: 4, pausedUntil: 16 * MIN }, 2 * MIN, { verdict: { kind: 'pause', until: 16 * MIN, tripped: false, refusals: 4 }, pausedUntil: 16 * MIN }],
    [{ refusals: 1, pausedUntil: 16 * MIN }, 16 * MIN, { verdict: { kind: 'delete' }, pausedUntil: 16 * MIN }],
  ])('%o at %i', (state, now, expected) => {
    expect(judgeRefusal(state, now, OPTIONS)).toEqual(expected);
  });
});

describe.each(ENGINES)('origin breaker on %s', (engine) => {
  let s: TestStore;
  beforeEach(async () => {
    s = await createTestStore(engine);
  });
  afterEach(() => s.close());
  const breaker = (): OriginBreaker => createOriginBreaker(s.store, OPTIONS);

  it('lets isolated refusals delete their subscription', async () => {
    const b = breaker();
    expect(await b.recordAuthFailure(FCM, 1, 0)).toEqual({ kind: 'delete' });
    expect(await b.recordAuthFailure(FCM, 2, 6 * MIN)).toEqual({ kind: 'delete' });
    expect(await b.recordAuthFailure(FCM, 3, 12 * MIN)).toEqual({ kind: 'delete' });
    expect(b.pausedUntil(FCM, 12 * MIN)).toBeNull();
  });

  it('trips on distinct subscriptions within the window and pauses the origin, for every breaker on the store', async () => {
    const b = breaker();
    const other = breaker();
    await b.recordAuthFailure(FCM, 1, 0);
    await other.recordAuthFailure(FCM, 2, MIN);
    expect(await b.recordAuthFailure(FCM, 3, 2 * MIN)).toEqual({ kind: 'pause', until: 17 * MIN, tripped: true, refusals: 3 });
    expect(await other.recordAuthFailure(FCM, 4, 3 * MIN)).toMatchObject({ kind: 'pause', until: 17 * MIN, tripped: false });
    expect(b.pausedUntil(FCM, 16 * MIN)).toBe(17 * MIN);
    expect(b.pausedUntil(FCM, 17 * MIN)).toBeNull();
    // A third worker that never saw a refusal learns of the pause at its next refresh.
    const third = breaker();
    expect(third.pausedUntil(FCM, 10 * MIN)).toBeNull();
    await third.refresh(10 * MIN);
    expect(third.pausedUntil(FCM, 10 * MIN)).toBe(17 * MIN);
    expect(third.pausedOrigins(10 * MIN)).toEqual([FCM]);
    expect(third.pausedUntil('https://updates.push.services.mozilla.com', 10 * MIN)).toBeNull();
  });

  it('deletes at most two subscriptions however many refusals arrive at once from several workers', async () => {
    const workers = [breaker(), breaker(), breaker()];
    const verdicts = await Promise.all(Array.from({ length: 12 }, (_, i) => workers[i % 3].recordAuthFailure(FCM, i + 1, 1000)));
    expect(verdicts.filter((v) => v.kind === 'delete')).toHaveLength(2);
    expect(verdicts.filter((v) => v.kind === 'pause' && v.tripped)).toHaveLength(1);
  });

  it('counts one subscription refusing again only once', async () => {
    const b = breaker();
    for (let i = 0; i < 5; i++) expect(await b.recordAuthFailure(FCM, 7, i * 1000)).toEqual({ kind: 'delete' });
  });

  it('trips again right after a pause when the refusals go on', async () => {
    const b = breaker();
    await b.recordAuthFailure(FCM, 1, 0);
    await b.recordAuthFailure(FCM, 2, 0);
    await b.recordAuthFailure(FCM, 3, 0);
    expect(await b.recordAuthFailure(FCM, 4, 15 * MIN + 1)).toMatchObject({ kind: 'delete' });
    await b.recordAuthFailure(FCM, 5, 15 * MIN + 2);
    expect(await b.recordAuthFailure(FCM, 6, 15 * MIN + 3)).toMatchObject({ kind: 'pause', tripped: true });
  });
});
