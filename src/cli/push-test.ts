// `herald push test --account <id>`: sends one test push to each of the account's subscriptions, now,
// and prints what each push service answered. A subscription the service reports gone is removed, as
// the worker would remove it.
import type { Config } from '../config.js';
import { createPushSender } from '../push/sender.js';
import { buildPushPayload } from '../push/payload.js';
import { send } from '../queue/delivery-handler.js';
import type { DeliveryMetrics } from '../queue/delivery-metrics.js';
import { accessTokenOf, buildSubscriptionRequest } from '../services/push-message.js';
import { loadPushSecrets } from '../services/push-secrets.js';
import { createConfiguredSigner, parseConfiguredAllowList, resolveVapidSubject } from '../services/push-vapid.js';
import { loadVapidKeys } from '../services/secrets.js';
import { findAccount } from '../store/accounts.js';
import { migrateToLatest } from '../store/migrations.js';
import { openStore } from '../store/open-store.js';
import { removeSubscriptions, listSubscriptionsOfAccount } from '../store/push-subscriptions.js';
import { readFlags } from './run-cli.js';

const NO_METRICS: DeliveryMetrics = {
  recordOutcome() {},
  observeEncryption() {},
  observeSend() {},
  originPaused() {},
};

export async function pushTestCommand(config: Config, args: readonly string[]): Promise<number> {
  const accountId = readFlags(args).get('account');
  if (!accountId) {
    console.error('herald push test: --account <id> is required');
    return 2;
  }
  const subject = resolveVapidSubject(config);
  if (subject.warning) console.error(`warning: ${subject.warning}`);
  const allowList = parseConfiguredAllowList(config);
  const store = openStore(config);
  const sender = createPushSender({ allowList });
  try {
    await migrateToLatest(store.db, store.dialect);
    const account = await findAccount(store.db, accountId);
    if (!account) {
      console.error(`herald push test: no account ${accountId}`);
      return 1;
    }
    const subscriptions = await listSubscriptionsOfAccount(store.db, accountId);
    if (subscriptions.length === 0) {
      console.log(`account ${accountId} has no push subscriptions`);
      return 0;
    }
    const deps = {
      vapid: createConfiguredSigner(await loadVapidKeys(config, store.db), subject.subject, Date.now),
      secrets: await loadPushSecrets(store.db),
      publicUrl: config.publicUrl,
      now: Date.now,
    };
    let failures = 0;
    for (const subscription of subscriptions) {
      const origin = new URL(subscription.endpoint).origin;
      const label = `subscription ${subscription.id} (${origin})`;
      try {
        // notification_id 0 names no notification: clients that fetch it fall back to title and body.
        const payload = buildPushPayload({
          accessToken: accessTokenOf(deps.secrets, subscription),
          locale: account.locale,
          notificationId: 0,
          type: 'mention',
          actor: { username: 'herald', display_name: 'Herald', note: 'This is a test push sent by herald push test.' },
        });
        const request = await buildSubscriptionRequest(deps, subscription, payload, null);
        const outcome = await send(
          { sender, metrics: NO_METRICS, now: Date.now, retryBaseMs: config.pushRetryBaseMs, random: Math.random },
          request,
          origin,
          { attempt: 1 },
        );
        const status = outcome.status === null ? 'no answer' : `HTTP ${outcome.status}`;
        if (outcome.kind === 'delivered') {
          console.log(`${label}: delivered (${status})`);
          continue;
        }
        failures++;
        if (outcome.kind === 'gone') {
          const removal = { reason: 'gone' as const, detail: String(outcome.status), now: Date.now() };
          await store.db.transaction().execute((trx) => removeSubscriptions(trx, { id: subscription.id }, removal));
          console.log(`${label}: gone (${status}), subscription removed: ${outcome.reason}`);
        } else {
          console.log(`${label}: ${outcome.kind} (${status}): ${outcome.reason}`);
        }
      } catch (error) {
        failures++;
        console.log(`${label}: failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failures === 0 ? 0 : 1;
  } finally {
    await sender.close();
    await store.close();
  }
}
