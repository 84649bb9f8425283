// Which subscriptions receive a push for a notification (SPEC §8.4). Pure.
import type { NotificationType } from './notification-types.js';
import type { Relationship } from './notification-policy.js';

export const PUSH_POLICIES = ['all', 'followed', 'follower', 'none'] as const;
export type PushPolicy = (typeof PUSH_POLICIES)[number];
export const isPushPolicy = (v: unknown): v is PushPolicy =>
  typeof v === 'string' && (PUSH_POLICIES as readonly string[]).includes(v);

export type Alerts = Readonly<Partial<Record<NotificationType, boolean>>>;

export function shouldPush(
  subscription: { readonly alerts: Alerts; readonly policy: PushPolicy },
  notification: { readonly type: NotificationType; readonly filtered: boolean },
  relationship: Pick<Relationship, 'following' | 'followedBy'>,
): boolean {
  if (notification.filtered || subscription.alerts[notification.type] !== true) return false;
  switch (subscription.policy) {
    case 'all':
      return true;
    case 'followed':
      return relationship.following;
    case 'follower':
      return relationship.followedBy;
    case 'none':
      return false;
  }
}
