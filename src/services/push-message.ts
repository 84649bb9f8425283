// One push message for one subscription: the payload of SPEC §8.5 from what the store holds now, and the
// request of SPEC §8.6 around it (fresh encryption every time, Topic for grouped types, a freshly
// signed Unsubscribe-URL). Shared by the delivery worker and `herald push test`.
import { isObject } from '../domain/records.js';
import { finishPushRequest, pushRequestHead, topicForGroupKey, type PushRequest } from '../push/build-push-request.js';
import { encryptInline, type Encrypt } from '../push/encryption-pool.js';
import { buildPushPayload, type PushPayloadInput } from '../push/payload.js';
import type { VapidSigner } from '../push/vapid.js';
import { findAccounts, findStatuses, type AccountRow, type StatusRow } from '../store/accounts.js';
import type { NotificationRow } from '../store/notifications.js';
import type { PushSubscriptionRow } from '../store/push-subscriptions.js';
import type { Db } from '../store/schema.js';
import { tokenContext, type PushSecrets } from './push-secrets.js';

export interface PushMessageDeps {
  readonly vapid: VapidSigner;
  /** Where messages are encrypted: an encryption pool's threads, or by default this thread. */
  readonly encrypt?: Encrypt;
  readonly secrets: PushSecrets;
  /** HERALD_PUBLIC_URL, for the Unsubscribe-URL. */
  readonly publicUrl: string;
  readonly now: () => number;
}

/** The plain access token kept with the subscription; throws when it cannot be opened (the push secret changed). */
export function accessTokenOf(secrets: PushSecrets, subscription: PushSubscriptionRow): string {
  return secrets.tokenCipher.open(subscription.access_token_enc, tokenContext(subscription.token_id));
}

/**
 * The payload for a notification as the store has it now, or null when there is nothing fit to push:
 * the actor was removed or suspended since (such notifications are hidden everywhere, SPEC §3).
 */
export async function composeNotificationPayload(
  db: Db,
  notification: NotificationRow,
  accessToken: string,
): Promise<string | null> {
  const [accounts, statuses] = await Promise.all([
    findAccounts(db, [notification.account_id, notification.from_account_id]),
    findStatuses(db, notification.status_id ? [notification.status_id] : []),
  ]);
  return composePayloadFrom(notification, accounts, statuses, accessToken);
}

/** The same from accounts and statuses already loaded (the worker loads them for a claimed batch). */
export function composePayloadFrom(
  notification: NotificationRow,
  accounts: ReadonlyMap<string, AccountRow>,
  statuses: ReadonlyMap<string, StatusRow>,
  accessToken: string,
): string | null {
  const actor = accounts.get(notification.from_account_id);
  const recipient = accounts.get(notification.account_id);
  if (!actor || !recipient) return null;
  if (actor.suspended === 1 && actor.id !== recipient.id) return null;
  const actorJson = parseObject(actor.json);
  const statusRow = notification.status_id ? statuses.get(notification.status_id) : undefined;
  const input: PushPayloadInput = {
    accessToken,
    locale: recipient.locale,
    notificationId: notification.id,
    type: notification.type,
    actor: {
      display_name: stringOrNull(actorJson.display_name),
      username: actor.username,
      avatar_static: stringOrNull(actorJson.avatar_static) ?? stringOrNull(actorJson.avatar),
      note: stringOrNull(actorJson.note),
    },
    status: statusRow ? toStatusText(parseObject(statusRow.json)) : null,
  };
  return buildPushPayload(input);
}

/** The request for one subscription; encrypts afresh on every call (RFC 8291 §3.4, SPEC §12). */
export async function buildSubscriptionRequest(
  deps: PushMessageDeps,
  subscription: PushSubscriptionRow,
  payload: string,
  groupKey: string | null,
): Promise<PushRequest> {
  const head = pushRequestHead(subscription.endpoint, {
    // SPEC §12: only grouped types carry a Topic, so a burst of favourites replaces itself at the service.
    topic: groupKey === null ? undefined : topicOf(groupKey),
    unsubscribeUrl: unsubscribeUrlFor(deps, subscription),
  });
  const encrypted = await (deps.encrypt ?? encryptInline)({
    p256dh: subscription.p256dh,
    auth: subscription.auth,
    standard: subscription.standard === 1,
    payload,
  });
  return finishPushRequest(head, encrypted, deps.vapid);
}

/**
 * Topics by group key. The pushes of a group share its key, and hashing it for every push was ~2.5% of the
 * main thread at the delivery benchmark's peak (follows are grouped). A memo of a pure function: nothing
 * it holds differs between callers. Bounded: emptied when full.
 */
const topics = new Map<string, string>();

function topicOf(groupKey: string): string {
  let topic = topics.get(groupKey);
  if (topic === undefined) {
    topic = topicForGroupKey(groupKey);
    if (topics.size >= 10_000) topics.clear();
    topics.set(groupKey, topic);
  }
  return topic;
}

export function unsubscribeUrlFor(deps: Omit<PushMessageDeps, 'vapid'>, subscription: PushSubscriptionRow): string {
  const token = deps.secrets.unsubscribeTokens.sign(subscription, deps.now());
  return `${deps.publicUrl}/api/v1/push/unsubscribe/${token}`;
}

function parseObject(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json);
    return isObject(value) ? value : {};
  } catch {
    return {};
  }
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

function toStatusText(status: Record<string, unknown>): PushPayloadInput['status'] {
  return {
    spoiler_text: stringOrNull(status.spoiler_text),
    text: stringOrNull(status.text),
    content: stringOrNull(status.content),
  };
}
