// The token store's SPEC §13 rules, on both engines: external token rows are pruned once expired (or unseen
// for long) unless they hold a push subscription, and a revoked row stays as long as it is what keeps its
// token refused.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readPageVersion } from '../../src/store/page-versions.js';
import {
  confirmExternalToken,
  findTokenByHash,
  findTokenByHashWithPageVersion,
  hashToken,
  importToken,
  insertToken,
  pruneExternalTokens,
  revokeTokens,
} from '../../src/store/tokens.js';
import { createTestStore, ENGINES, type TestStore } from '../support/test-app.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-22T12:00:00Z');

describe.each(ENGINES)('token store on %s', (engine) => {
  let s: TestStore;
  beforeEach(async () => {
    s = await createTestStore(engine);
  });
  afterEach(() => s.close());

  const external = (name: string, source: 'jwt' | 'introspection', expiresAt: number | null, seenAt = NOW) =>
    confirmExternalToken(s.store.db, { token_hash: hashToken(name), account_id: '1', scopes: 'read', source, expires_at: expiresAt, now: seenAt });
  const names = async () =>
    (await s.store.db.selectFrom('tokens').select('token_hash').execute()).map((r) => r.token_hash).sort();

  it('prunes expired and long-unseen external rows without a subscription, and nothing else', async () => {
    const db = s.store.db;
    await external('expired-jwt', 'jwt', NOW - 1);
    await external('live-jwt', 'jwt', NOW + DAY);
    const subscribed = await external('expired-but-subscribed', 'jwt', NOW - DAY);
    await external('unseen-introspected', 'introspection', null, NOW - 31 * DAY);
    await external('recently-seen-introspected', 'introspection', null, NOW - 29 * DAY);
    const revokedUnseen = await external('revoked-no-expiry', 'introspection', null, NOW - 60 * DAY);
    await revokeTokens(db, { id: revokedUnseen!.id }, NOW - 59 * DAY);
    await insertToken(db, { token_hash: hashToken('own-old'), account_id: '1', scopes: 'read', client_name: null, created_at: NOW - 400 * DAY });
    await importToken(db, { token_hash: hashToken('imported-old'), account_id: '1', scopes: 'read', client_name: null, created_at: NOW - 400 * DAY });
    await db
      .insertInto('push_subscriptions')
      .values({ token_id: subscribed!.id, account_id: '1', endpoint: 'https://push.example/x', p256dh: 'k', auth: 'a', standard: 1, alerts: '{}', policy: 'all', access_token_enc: 'x', created_at: NOW, updated_at: NOW })
      .execute();

    expect(await pruneExternalTokens(db, NOW, 30 * DAY)).toBe(2);
    expect(await names()).toEqual(
      ['live-jwt', 'expired-but-subscribed', 'recently-seen-introspected', 'revoked-no-expiry', 'own-old', 'imported-old'].map(hashToken).sort(),
    );
  });

  it("reads the token's row and its account's page version in one statement, as readPageVersion reads it", async () => {
    const db = s.store.db;
    await insertToken(db, { token_hash: hashToken('reader'), account_id: '1', scopes: 'read', client_name: null, created_at: NOW });
    const versions: string[] = [];
    const check = async () => {
      const withVersion = await findTokenByHashWithPageVersion(db, hashToken('reader'));
      const { pageVersion, ...row } = withVersion!;
      expect(row).toEqual(await findTokenByHash(db, hashToken('reader')));
      expect(pageVersion).toBe(await readPageVersion(db, '1'));
      versions.push(pageVersion);
    };
    await check();
    // The recipient's own version (a notification of account 1), then the shared one (an account).
    await db
      .insertInto('notifications')
      .values({ account_id: '1', type: 'follow', from_account_id: '2', status_id: null, target_id: null, payload: null, group_key: null, filtered: 0, relationship: 0, created_at: NOW })
      .execute();
    await check();
    await db
      .insertInto('accounts')
      .values({ id: '3', username: 'c', acct: 'c', json: '{}', locale: null, suspended: 0, bot: 0, limited: 0, created_at: NOW, updated_at: NOW })
      .execute();
    await check();
    expect(new Set(versions).size).toBe(3);
    expect(await findTokenByHashWithPageVersion(db, hashToken('nobody'))).toBeUndefined();
  });

  it('a revoked row is never brought back by its source confirming the token again', async () => {
    const row = await external('revoked', 'jwt', NOW + DAY);
    await revokeTokens(s.store.db, { id: row!.id }, NOW);
    expect(await external('revoked', 'jwt', NOW + DAY)).toBeUndefined();
    expect(await importToken(s.store.db, { token_hash: hashToken('revoked'), account_id: '1', scopes: 'read', client_name: null, created_at: NOW })).toBeUndefined();
    const [stored] = await s.store.db.selectFrom('tokens').selectAll().execute();
    expect(Number(stored.revoked_at)).toBe(NOW);
  });
});
