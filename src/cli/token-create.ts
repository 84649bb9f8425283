import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { parseScopes } from '../domain/scopes.js';
import { findAccount } from '../store/accounts.js';
import { migrateToLatest } from '../store/migrations.js';
import { openStore } from '../store/open-store.js';
import { hashToken, insertToken } from '../store/tokens.js';
import { readFlags } from './run-cli.js';

export async function createTokenCommand(config: Config, args: readonly string[]): Promise<number> {
  const flags = readFlags(args);
  const accountId = flags.get('account');
  if (!accountId) {
    console.error('herald token create: --account <id> is required');
    return 2;
  }
  const scopes = parseScopes(flags.get('scopes') ?? 'read write push');
  const store = openStore(config);
  try {
    await migrateToLatest(store.db, store.dialect);
    if (!(await findAccount(store.db, accountId))) {
      console.error(`herald token create: no account ${accountId} (create it with PUT /api/admin/v1/accounts/${accountId})`);
      return 1;
    }
    const plain = randomBytes(32).toString('base64url');
    const row = await insertToken(store.db, {
      token_hash: hashToken(plain),
      account_id: accountId,
      scopes: scopes.join(' '),
      client_name: flags.get('client') ?? null,
      created_at: Date.now(),
    });
    console.log(`token ${row.id} for account ${accountId} (${row.scopes}):\n${plain}`);
    return 0;
  } finally {
    await store.close();
  }
}
