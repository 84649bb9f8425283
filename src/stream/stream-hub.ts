// Fans committed notifications out to the streaming connections of their recipient (SPEC §9). Each
// notification is loaded and serialized once, however many connections its recipient has open.
import type { NotificationBus, CommittedNotification } from '../services/notification-bus.js';
import { contextFromViews } from '../services/notification-views.js';
import { findVisibleNotification } from '../store/notifications.js';
import type { Db } from '../store/schema.js';
import { serializeNotification } from '../http/serializers/notification.js';

export type StreamName = 'user' | 'user:notification';

/** Receives the serialized notification JSON for one stream of one connection. */
export type StreamSink = (stream: StreamName, notificationJson: string) => void;

interface Listener {
  readonly stream: StreamName;
  readonly sink: StreamSink;
}

export interface StreamHub {
  /** Starts delivering an account's notifications to `sink`; the returned function stops it. */
  listen(accountId: string, stream: StreamName, sink: StreamSink): () => void;
  close(): void;
}

export function createStreamHub(deps: { db: Db; bus: NotificationBus; onError?: (error: unknown) => void }): StreamHub {
  const listeners = new Map<string, Set<Listener>>();

  async function fanOut(event: CommittedNotification): Promise<void> {
    const targets = listeners.get(event.accountId);
    // Filtered notifications are never streamed (SPEC §9); most recipients have no open stream.
    if (!targets || targets.size === 0 || event.filtered) return;
    const row = await findVisibleNotification(deps.db, event.accountId, event.notificationId);
    if (!row) return;
    const json = serializeNotification(row, contextFromViews([row]));
    for (const listener of targets) listener.sink(listener.stream, json);
  }

  const unsubscribe = deps.bus.subscribe((event) => {
    fanOut(event).catch((error) => deps.onError?.(error));
  });

  return {
    listen(accountId, stream, sink) {
      const listener: Listener = { stream, sink };
      let set = listeners.get(accountId);
      if (!set) listeners.set(accountId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(accountId);
      };
    },
    close() {
      unsubscribe();
      listeners.clear();
    },
  };
}
