// On PostgreSQL, executeCached's hot queries go as named statements, prepared once per connection; other
// queries stay unnamed. Both give the same rows.
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findTokenByHash, hashToken, insertToken } from '../../src/store/tokens.js';
import { createTestStore, type TestStore } from '../support/test-app.js';

describe('prepared hot queries on postgres', () => {
  let s: TestStore;
  beforeEach(async () => {
    s = await createTestStore('postgres');
  });
  afterEach(() => s.close());

  it('prepares a cached query once on its connection and answers it the same, run after run', async () => {
    const hash = hashToken('prepared-token');
    await insertToken(s.store.db, { token_hash: hash, account_id: '1', scopes: 'read', client_name: null, created_at: 1 });
    await s.store.db.transaction().execute(async (trx) => {
      const prepared = async () =>
        (await sql<{ statement: string }>`select statement from pg_prepared_statements where name like 'herald_%'`.execute(trx)).rows;
      expect(await prepared()).toEqual([]);
      for (let run = 0; run < 3; run++) {
        expect((await findTokenByHash(trx, hash))?.account_id).toBe('1');
        expect(await findTokenByHash(trx, hashToken('unknown'))).toBeUndefined();
      }
      const statements = await prepared();
      expect(statements).toHaveLength(1);
      expect(statements[0].statement).toMatch(/from "tokens" where "token_hash" = \$1/);
    });
  });
});
