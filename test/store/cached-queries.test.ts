// executeCached's engine-specific paths: on PostgreSQL hot queries go as named statements, prepared once per
// connection; on SQLite a read outside any transaction goes straight to the connection, and one asked for
// while a transaction is open waits for it, as every Kysely query does, never seeing its uncommitted rows.
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

describe('direct reads on sqlite', () => {
  let s: TestStore;
  beforeEach(async () => {
    s = await createTestStore('sqlite');
  });
  afterEach(() => s.close());

  const token = (name: string) => ({ token_hash: hashToken(name), account_id: '1', scopes: 'read', client_name: null, created_at: 1 });

  it('answers outside transactions, and waits for an open one to end rather than read into it', async () => {
    const db = s.store.db;
    await insertToken(db, token('committed'));
    expect((await findTokenByHash(db, hashToken('committed')))?.account_id).toBe('1');
    let readInside: Promise<unknown> | undefined;
    let ended = false;
    await expect(
      db.transaction().execute(async (trx) => {
        await insertToken(trx, token('rolled-back'));
        readInside = findTokenByHash(db, hashToken('rolled-back')).then((row) => ({ row, ended }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    ended = true;
    expect(await readInside).toEqual({ row: undefined, ended: true });
    await db.transaction().execute(async (trx) => {
      await insertToken(trx, token('later'));
      readInside = findTokenByHash(db, hashToken('later'));
    });
    expect(((await readInside) as { account_id: string } | undefined)?.account_id).toBe('1');
  });
});
