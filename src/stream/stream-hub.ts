// Fans events out to the open streams of their recipient (SPEC §9): committed notifications, loaded and
// serialized once however many streams the recipient holds, and `notifications_merged` after an accepted
// request. Filtered notifications are never streamed.
import type { CommittedNotification, NotificationBus } from '../services/notification-bus.js';
import { contextFromViews } from '../services/notification-views.js';
import { findVisibleNotification } from '../store/notifications.js';
import type { Db } from '../store/schema.js';
import { serializeNotification } from '../http/serializers/notification.js';

/** One event as Mastodon's streaming server names it; `payload` is already a string (JSON for a notification). */
export interface StreamEvent {
  readonly event: 'notification' | 'notifications_merged';
  readonly payload: string;
}

export type StreamSink = (event: StreamEvent) => void;

export interface StreamHub {
  /** Starts delivering an account's events to `sink`; the returned function stops it. */
  listen(accountId: string, sink: StreamSink): () => void;
  close(): void;
}

const MERGED: StreamEvent = { event: 'notifications_merged', payload: '1' };

export function createStreamHub(deps: { db: Db; bus: NotificationBus; onError?: (error: unknown) => void }): StreamHub {
  const listeners = new Map<string, Set<StreamSink>>();

  const emit = (accountId: string, event: StreamEvent): void => {
    for (const sink of listeners.get(accountId) ?? []) sink(event);
  };

  async function fanOut(committed: CommittedNotification): Promise<void> {
    // Most recipients have no open stream.
    if (committed.filtered || !listeners.has(committed.accountId)) return;
    const row = await findVisibleNotification(deps.db, committed.accountId, committed.notificationId);
    if (!row) return;
    emit(committed.accountId, { event: 'notification', payload: serializeNotification(row, contextFromViews([row])) });
  }

  // One chain per recipient: each notification is loaded asynchronously, and a later one must not overtake
  // an earlier one on the way to the same streams.
  const chains = new Map<string, Promise<void>>();
  const stopNotifications = deps.bus.subscribe((committed) => {
    const previous = chains.get(committed.accountId) ?? Promise.resolve();
    const next = previous.then(() => fanOut(committed)).catch((error) => deps.onError?.(error));
    chains.set(committed.accountId, next);
    void next.then(() => {
      if (chains.get(committed.accountId) === next) chains.delete(committed.accountId);
    });
  });
  const stopSignals = deps.bus.onSignal((signal) => {
    if (signal.kind === 'notifications_merged') emit(signal.accountId, MERGED);
  });

  return {
    listen(accountId, sink) {
      let set = listeners.get(accountId);
      if (!set) listeners.set(accountId, (set = new Set()));
      set.add(sink);
      return () => {
        set.delete(sink);
        if (set.size === 0 && listeners.get(accountId) === set) listeners.delete(accountId);
      };
    },
    close() {
      stopNotifications();
      stopSignals();
      listeners.clear();
    },
  };
}
