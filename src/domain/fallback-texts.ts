// Plain-language text for notification types a client says it does not support (SPEC §4.1 `supported_types[]`).
import type { NotificationType } from './notification-types.js';

/** Mastodon 4.6's NotificationFallback: `summary` and `details` may be null. */
export interface Fallback {
  readonly title: string;
  readonly summary: string | null;
  readonly details: string | null;
}

const TEXTS: Partial<Record<NotificationType, { title: string; summary: (name: string) => string }>> = {
  severed_relationships: {
    title: 'Lost connections',
    summary: () => 'You have lost connections due to a moderation decision.',
  },
  moderation_warning: {
    title: 'Moderation warning',
    summary: () => 'You have received a moderation warning.',
  },
  'admin.sign_up': { title: 'New sign-up', summary: (name) => `${name} signed up.` },
  'admin.report': { title: 'New report', summary: (name) => `${name} submitted a report.` },
  added_to_collection: { title: 'Added to a collection', summary: (name) => `${name} added you to a collection.` },
  collection_update: { title: 'Collection updated', summary: (name) => `${name} updated a collection you are in.` },
};

export function fallbackFor(type: NotificationType, actorName: string): Fallback | undefined {
  const text = TEXTS[type];
  return text ? { title: text.title, summary: text.summary(actorName), details: null } : undefined;
}
