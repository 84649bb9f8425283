// What a store holds, as row counts and a content digest per table: "nothing changed" is two equal snapshots.
import { createHash } from 'node:crypto';
import type { Store } from '../../src/store/open-store.js';

export const TABLES = [
  'accounts',
  'statuses',
  'tokens',
  'notifications',
  'idempotency_keys',
  'group_buckets',
  'markers',
  'notification_policies',
  'notification_permissions',
  'notification_requests',
  'push_subscriptions',
  'deliveries',
] as const;

export type Table = (typeof TABLES)[number];

export async function countRows(store: Store, table: Table): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every table's rows in a stable order, hashed: equal snapshots mean equal contents. */
export async function snapshotStore(store: Store): Promise<Record<Table, string>> {
  const out = {} as Record<Table, string>;
  for (const table of TABLES) {
    const rows = (await store.db.selectFrom(table).selectAll().execute()) as Record<string, unknown>[];
    const lines = rows.map((r) => JSON.stringify(Object.keys(r).sort().map((k) => [k, String(r[k])]))).sort();
    out[table] = `${rows.length}:${createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)}`;
  }
  return out;
}
