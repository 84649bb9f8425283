// SPEC §9 and §13: a revoked token's WebSocket and SSE streams are closed within 5 s and receive nothing
// more: in one process on either engine, for own and host tokens, when the signal is lost (the sweep), and
// when the authorization server stops calling an introspected token active.
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openSse, openWebSocket, within } from '../support/stream-clients.js';
import { startAuthServer, type AuthServer } from '../support/auth-server.js';
import { createTestApp, ENGINES, type TestApp } from '../support/test-app.js';
import { hashToken } from '../../src/store/tokens.js';

let as: AuthServer;
beforeAll(async () => {
  as = await startAuthServer();
});
afterAll(() => as?.close());


describe.each(ENGINES)('revoked tokens lose their streams on %s', (engine) => {
  let t: TestApp;
  let base: string;

  beforeEach(async () => {
    t = await createTestApp(engine, {
      env: {
        HERALD_AUTH_JWKS_URL: as.jwksUrl,
        HERALD_AUTH_ISSUER: as.issuer,
        HERALD_AUTH_INTROSPECTION_URL: as.introspectionUrl,
        HERALD_AUTH_CLIENT_ID: as.clientId,
        HERALD_AUTH_CLIENT_SECRET: as.clientSecret,
      },
    });
    t.clock.now = Date.now();
    await t.account('1');
    await t.account('2');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterEach(() => t.close());

  it('closes the SSE and WebSocket streams of a token revoked through the admin API, at once', async () => {
    const own = await t.token('1', 'read');
    const jwt = await as.issueToken({ sub: '1', scope: 'read', format: 'jwt' });
    const streams = [await openSse(base, own), await openWebSocket(base, own), await openSse(base, jwt), await openWebSocket(base, jwt)];
    const first = await t.notify({ account_id: '1', type: 'follow', from_account_id: '2' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const stream of streams) expect(stream.received).toEqual([first.id]);

    const revokedAt = Date.now();
    const ownRow = await t.store.db.selectFrom('tokens').select('id').where('token_hash', '=', hashToken(own)).executeTakeFirstOrThrow();
    expect((await t.admin('DELETE', `/tokens/${ownRow.id}`)).statusCode).toBe(200);
    expect((await t.admin('POST', '/tokens/revoke', { access_token: jwt })).json()).toEqual({ revoked: 1 });
    for (const stream of streams) expect((await within(stream.closed, 5000, 'stream closed')) - revokedAt).toBeLessThan(5000);

    await t.status('30', { author: '2' });
    await t.notify({ account_id: '1', type: 'mention', from_account_id: '2', status_id: '30' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const stream of streams) expect(stream.received).toEqual([first.id]);
    // A reconnect with the revoked token is refused before the upgrade.
    await expect(openSse(base, own)).rejects.toThrow(/401/);
  });

  it('closes streams whose token was revoked without a signal, at the next sweep', async () => {
    const own = await t.token('1', 'read');
    const stream = await openSse(base, own);
    // Another process revoked it and its signal was lost: only the row says so.
    await t.store.db.updateTable('tokens').set({ revoked_at: Date.now() }).where('token_hash', '=', hashToken(own)).execute();
    await within(stream.closed, 5000, 'stream closed by the sweep');
  });

  it('closes the streams of an introspected token once the authorization server no longer calls it active', async () => {
    const opaque = await as.issueToken({ sub: '1', scope: 'read', format: 'opaque' });
    const streams = [await openSse(base, opaque), await openWebSocket(base, opaque)];
    await as.revoke(opaque);
    // Within the cache time the stream stays; past it, the sweep asks again and closes.
    t.clock.now += 61_000;
    // A request with the same token meanwhile learns the inactive answer first: the sweep must still close.
    expect((await t.client(opaque, 'GET', '/api/v1/notifications')).statusCode).toBe(401);
    for (const stream of streams) await within(stream.closed, 5000, 'stream closed after the cache time');
  });
});
