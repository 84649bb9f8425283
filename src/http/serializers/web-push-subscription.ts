// The WebPushSubscription entity (SPEC §8.1). `id` is a JSON number, as Mastodon sends it (SPEC §1.4).
import { NOTIFICATION_TYPES, type NotificationType } from '../../domain/notification-types.js';
import { fromBase64Url, toBase64UrlPadded } from '../../push/base64url.js';
import type { PushSubscriptionRow } from '../../store/push-subscriptions.js';

export interface WebPushSubscription {
  id: number;
  endpoint: string;
  standard: boolean;
  alerts: Record<NotificationType, boolean>;
  server_key: string;
  policy: string;
}

/**
 * Mastodon's `server_key` is url-safe base64 *with* padding, unlike the instance's `vapid.public_key`;
 * clients pass it to PushManager.subscribe, which accepts both.
 */
export function serverKeyOf(vapidPublicKey: string): string {
  const bytes = fromBase64Url(vapidPublicKey);
  return bytes === null ? vapidPublicKey : toBase64UrlPadded(bytes);
}

export function serializeWebPushSubscription(row: PushSubscriptionRow, vapidPublicKey: string): WebPushSubscription {
  const stored = JSON.parse(row.alerts) as Partial<Record<string, unknown>>;
  const alerts = {} as Record<NotificationType, boolean>;
  for (const type of NOTIFICATION_TYPES) alerts[type] = stored[type] === true;
  return {
    id: row.id,
    endpoint: row.endpoint,
    standard: row.standard === 1,
    alerts,
    server_key: serverKeyOf(vapidPublicKey),
    policy: row.policy,
  };
}
