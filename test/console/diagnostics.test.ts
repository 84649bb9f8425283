// SPEC §14's admin JSON on both engines, after a local push service answered 201, 410 and 503: what an
// operator needs to tell why a phone got nothing, and never an endpoint's path, a token or keys.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDeliveryDiagnostics, type DeliveryDiagnostics } from '../../src/queue/delivery-diagnostics.js';
import { createPushBed, type PushBed } from '../support/push-bed.js';
import { ENGINES } from '../support/test-app.js';

describe.each(ENGINES)('push diagnostics on %s', (engine) => {
  let bed: PushBed;
  let diagnostics: DeliveryDiagnostics;

  beforeEach(async () => {
    bed = await createPushBed(engine, {
      handler: (t) => {
        diagnostics = createDeliveryDiagnostics({ db: t.store.db, now: () => t.clock.now, onError: (e) => { throw e; } });
        return { diagnostics };
      },
    });
  });
  afterEach(async () => {
    await diagnostics.stop();
    await bed.close();
  });

  const admin = (url: string) => bed.t.admin('GET', url);

  it('says which subscription was removed and why, which fails, and how each push service does', async () => {
    bed.receiver.script('/push/gone', [{ status: 410 }]);
    bed.receiver.script('/push/down', [{ status: 503 }]);
    const ok = await bed.subscribe('/push/ok');
    const gone = await bed.subscribe('/push/gone', { standard: false });
    const down = await bed.subscribe('/push/down');
    await bed.t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    const results = await bed.drain();
    expect(results.map((r) => (r.kind === 'sent' ? r.action : r.kind)).sort()).toEqual(['delivered', 'gone', 'retry']);
    await diagnostics.flush();

    const account = await admin('/push/accounts/1');
    expect(account.statusCode).toBe(200);
    const body = account.json();
    expect(JSON.stringify(body)).not.toMatch(/\/push\/|p256dh|auth"|access_token/);
    expect(body.subscriptions.map((s: { id: number }) => s.id)).toEqual([ok.id, down.id]);
    const [okView, downView] = body.subscriptions;
    expect(okView).toMatchObject({ origin: bed.receiver.url, encoding: 'aes128gcm', consecutive_failures: 0, last_failure: null, pending_deliveries: 0 });
    expect(Date.parse(okView.last_success_at)).toBe(bed.t.clock.now);
    expect(downView).toMatchObject({ consecutive_failures: 1, last_failure: { status: '503', class: 'retry' }, pending_deliveries: 1, last_success_at: null });
    expect(body.removed).toEqual([
      {
        id: gone.id,
        origin: bed.receiver.url,
        removed_at: new Date(bed.t.clock.now).toISOString(),
        reason: 'gone',
        detail: expect.stringMatching(/^410/),
        explanation: expect.stringContaining('410 Gone: the app was uninstalled or its registration expired'),
      },
    ]);
    const texts = body.findings.map((f: { level: string; text: string }) => `${f.level}: ${f.text}`);
    expect(texts[0]).toMatch(new RegExp(`^problem: Subscription ${gone.id} at 127\\.0\\.0\\.1:\\d+ was removed at .* because the push service answered 410 Gone`));
    expect(texts.some((t: string) => t.startsWith(`warning: Subscription ${down.id}`) && t.includes('failed with 503'))).toBe(true);
    expect(texts.some((t: string) => t.startsWith(`ok: Subscription ${ok.id}`) && t.includes('works'))).toBe(true);

    const origins = (await admin('/push/origins')).json().origins;
    expect(origins).toHaveLength(1);
    expect(origins[0]).toMatchObject({
      origin: bed.receiver.url,
      last_hour: { outcomes: { delivered: 1, gone: 1, retry: 1 }, p50_ms: expect.any(Number), p99_ms: expect.any(Number) },
      last_day: { outcomes: { delivered: 1, gone: 1, retry: 1 } },
      // The last of the two failures: the sends ran side by side.
      last_error: { status: expect.stringMatching(/^(410|503)$/) },
      paused_until: null,
    });

    const queue = (await admin('/push/queue')).json();
    expect(queue).toMatchObject({ due: 0, scheduled: 1, leased: 0, given_up_last_day: [] });
    const status = (await admin('/status')).json();
    expect(status).toMatchObject({ version: expect.any(String), queue: { scheduled: 1, given_up_last_day: 0 } });

    // The retry succeeds later: the failure streak ends.
    bed.receiver.script('/push/down', [{ status: 201 }]);
    bed.t.clock.now += 60_000;
    await bed.drain();
    await diagnostics.flush();
    const after = (await admin('/push/accounts/1')).json().subscriptions.find((s: { id: number }) => s.id === down.id);
    expect(after).toMatchObject({ consecutive_failures: 0, pending_deliveries: 0, last_failure: { status: '503' } });
    expect(after.last_success_at).not.toBeNull();
  });

  it('names removals by the app, by revocation and by replacement', async () => {
    const first = await bed.subscribe('/push/a');
    await bed.t.client(first.token, 'DELETE', '/api/v1/push/subscription');
    const second = await bed.subscribe('/push/b');
    await bed.t.admin('POST', '/tokens/revoke', { access_token: second.token });
    const removed = (await admin('/push/accounts/1')).json().removed;
    expect(removed.map((r: { id: number; reason: string }) => [r.id, r.reason])).toEqual(
      expect.arrayContaining([
        [first.id, 'deleted_by_app'],
        [second.id, 'token_revoked'],
      ]),
    );
  });

  it('answers 401 without the admin token and 404 for an unknown account', async () => {
    for (const url of ['/status', '/push/queue', '/push/origins', '/push/accounts/1']) {
      const res = await bed.t.app.inject({ method: 'GET', url: `/api/admin/v1${url}` });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'The access token is invalid' });
    }
    expect((await admin('/push/accounts/nobody')).statusCode).toBe(404);
  });
});
