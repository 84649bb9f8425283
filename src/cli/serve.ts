// `herald serve|web|worker`: start the pieces, and stop them cleanly on SIGINT/SIGTERM.
import pino from 'pino';
import type { Config } from '../config.js';
import { buildApp } from '../http/build-app.js';
import { createLocalBus } from '../services/notification-bus.js';
import { loadAdminToken, loadVapidKeys } from '../services/secrets.js';
import { migrateToLatest } from '../store/migrations.js';
import { openStore } from '../store/open-store.js';

export async function serve(config: Config, roles: { web: boolean; worker: boolean }): Promise<number> {
  const logger = pino({ level: config.logLevel });
  const store = openStore(config);
  const applied = await migrateToLatest(store.db, store.dialect);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  const admin = loadAdminToken(config);
  if (admin.created) {
    // Printed once, on the terminal that started Herald: the host platform needs it for the admin API.
    console.log(`Admin token (saved in ${config.dataDir}/admin-token): ${admin.token}`);
  }
  const vapid = await loadVapidKeys(config, store.db);
  if (vapid.created) logger.info({ publicKey: vapid.publicKey }, 'generated a VAPID key pair and stored it');
  const bus = createLocalBus();
  const closers: (() => Promise<void>)[] = [];

  if (roles.web) {
    const app = await buildApp({
      config,
      store,
      bus,
      now: Date.now,
      adminToken: admin.token,
      vapidPublicKey: vapid.publicKey,
      logger: { level: config.logLevel },
    });
    await app.listen({ port: config.port, host: config.host });
    logger.info({ url: config.publicUrl, database: store.dialect }, 'herald is listening');
    closers.push(() => app.close());
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  for (const close of closers.reverse()) await close();
  await store.close();
  return 0;
}
