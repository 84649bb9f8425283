// Secrets Herald makes for itself on first start: the admin token (a file in the data directory) and the
// VAPID key pair (in the store, so every process of a PostgreSQL deployment signs with the same key).
import { randomBytes } from 'node:crypto';
import { generateVapidKeys, type VapidKeyPair } from '../push/keys.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { initSetting } from '../store/settings.js';
import { prepareDataDir } from '../store/open-store.js';
import type { Db } from '../store/schema.js';

export interface AdminTokenResult {
  readonly token: string;
  /** True when it was generated now: the caller prints it, once. */
  readonly created: boolean;
}

export function loadAdminToken(config: Config): AdminTokenResult {
  if (config.adminToken) return { token: config.adminToken, created: false };
  const file = path.join(config.dataDir, 'admin-token');
  if (fs.existsSync(file)) return { token: fs.readFileSync(file, 'utf8').trim(), created: false };
  prepareDataDir(config.dataDir);
  const token = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { token, created: true };
}

/** Keys from the settings, else the stored pair, else a new pair stored once. Never regenerated silently. */
export async function loadVapidKeys(config: Config, db: Db): Promise<VapidKeyPair & { created: boolean }> {
  if (config.vapidPublicKey && config.vapidPrivateKey) {
    return { publicKey: config.vapidPublicKey, privateKey: config.vapidPrivateKey, created: false };
  }
  const fresh = generateVapidKeys();
  const stored = JSON.parse(await initSetting(db, 'vapid_keys', JSON.stringify(fresh))) as VapidKeyPair;
  return { ...stored, created: stored.privateKey === fresh.privateKey };
}
