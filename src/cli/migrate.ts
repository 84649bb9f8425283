import type { Config } from '../config.js';
import { migrateToLatest } from '../store/migrations.js';
import { openStore } from '../store/open-store.js';

export async function migrate(config: Config): Promise<number> {
  const store = openStore(config);
  try {
    const applied = await migrateToLatest(store.db, store.dialect);
    console.log(applied.length === 0 ? 'migrations: up to date' : `migrations applied: ${applied.join(', ')}`);
    return 0;
  } finally {
    await store.close();
  }
}
