// The WAL is checkpointed by the worker thread, not by commits: the store's own connection only steps in
// past 256 MB of WAL, so pages reaching the main file within moments shows the worker at work.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/open-store.js';

describe('SQLite checkpoints', () => {
  let store: Store | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await store?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function until(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  it('copies committed pages into the main file from the worker thread', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-checkpoint-'));
    store = openStore({ dataDir: dir });
    const file = path.join(dir, 'herald.sqlite');
    await sql`create table filler (body text not null)`.execute(store.db);
    const before = fs.statSync(file).size;
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 200; i++) await sql`insert into filler (body) values (${'x'.repeat(10_000)})`.execute(trx);
    });
    // 2 MB committed: in the WAL at once, in the main file once checkpointed.
    expect(fs.statSync(path.join(dir, 'herald.sqlite-wal')).size).toBeGreaterThan(2_000_000);
    expect(await until(() => fs.statSync(file).size >= before + 2_000_000)).toBe(true);
    const { rows } = await sql<{ n: number }>`select count(*) as n from filler`.execute(store.db);
    expect(rows[0].n).toBe(200);
  });

  it('stops with the store, and the file opens again with everything in it', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-checkpoint-'));
    store = openStore({ dataDir: dir });
    await sql`create table filler (body text not null)`.execute(store.db);
    await sql`insert into filler (body) values ('kept')`.execute(store.db);
    await store.close();
    store = openStore({ dataDir: dir });
    const { rows } = await sql<{ body: string }>`select body from filler`.execute(store.db);
    expect(rows).toEqual([{ body: 'kept' }]);
  });
});
