// Push crypto benchmark: messages per second on one core, Herald's encryption + VAPID against web-push's
// generateRequestDetails, same payloads and keys, both encodings.
import { randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { buildPushRequest } from '../src/push/build-push-request.js';
import { createEphemeralKey, generateVapidKeys, oneShotKeySource } from '../src/push/keys.js';
import { pooledRandomBytes } from '../src/push/random-pool.js';
import { createVapidSigner } from '../src/push/vapid.js';
import { median, progress } from './support.js';

const PAYLOAD = JSON.stringify({
  access_token: 'x'.repeat(43),
  preferred_locale: 'en',
  notification_id: 123456,
  notification_type: 'mention',
  icon: 'https://social.example/avatars/original/missing.png',
  title: 'You were mentioned by Alice',
  body: '@bob hello there, this is a mention of a typical length for a push notification body',
});

/** Calls `fn` repeatedly for `ms` and returns calls per second. */
function rate(fn: () => void, ms: number): number {
  for (let i = 0; i < 50; i++) fn(); // warm up
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
  }
  return n / ((performance.now() - start) / 1000);
}

export async function benchPushCrypto(options: { ms: number; repeats: number }) {
  const vapidKeys = generateVapidKeys();
  const ua = createEphemeralKey();
  const subscription = {
    endpoint: 'https://push.example.net/wpush/v2/abcdef',
    keys: { p256dh: ua.publicKey.toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
  const signer = createVapidSigner({ ...vapidKeys, subject: 'mailto:ops@example.com', now: Date.now });
  const results: Record<string, { herald: number; webPush: number; ratio: number }> = {};
  // As a busy encryption thread draws them once its stock of keys made while idle has run out.
  const keyNow = oneShotKeySource();
  for (const encoding of ['aes128gcm', 'aesgcm'] as const) {
    const herald = (): void => {
      buildPushRequest({
        subscription: { endpoint: subscription.endpoint, ...subscription.keys, standard: encoding === 'aes128gcm' },
        payload: PAYLOAD,
        vapid: signer,
        random: pooledRandomBytes,
        createEphemeralKey: keyNow,
      });
    };
    const baseline = (): void => {
      webpush.generateRequestDetails(subscription, PAYLOAD, {
        vapidDetails: { subject: 'mailto:ops@example.com', ...vapidKeys },
        contentEncoding: encoding,
      });
    };
    const heraldRuns: number[] = [];
    const baselineRuns: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      // Alternate, so drift in the machine's load hits both sides alike.
      baselineRuns.push(rate(baseline, options.ms));
      heraldRuns.push(rate(herald, options.ms));
      progress(`  ${encoding} run ${r + 1}: herald ${heraldRuns[r].toFixed(0)}/s, web-push ${baselineRuns[r].toFixed(0)}/s`);
    }
    const h = median(heraldRuns);
    const w = median(baselineRuns);
    results[encoding] = { herald: h, webPush: w, ratio: h / w };
  }
  return results;
}
