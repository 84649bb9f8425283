// Tells the rest of the process that notifications were committed: streaming fans them out, the delivery
// worker wakes up. In-process here; a PostgreSQL deployment bridges processes through LISTEN/NOTIFY.
import { EventEmitter } from 'node:events';

export interface CommittedNotification {
  readonly accountId: string;
  readonly notificationId: number;
  readonly filtered: boolean;
  /** Push deliveries queued with it. */
  readonly deliveries: number;
}

/** Things every process must hear of besides notifications. */
export type BusSignal =
  /** Tokens revoked (SPEC §13): their streams close, cached verdicts are dropped. */
  | { readonly kind: 'tokens_revoked'; readonly tokenIds: readonly number[] }
  /** An accepted notification request was unfiltered (SPEC §7, §9): the recipient's streams are told. */
  | { readonly kind: 'notifications_merged'; readonly accountId: string };

export interface NotificationBus {
  publish(events: readonly CommittedNotification[]): void;
  subscribe(listener: (event: CommittedNotification) => void): () => void;
  publishSignal(signal: BusSignal): void;
  onSignal(listener: (signal: BusSignal) => void): () => void;
}

export function createLocalBus(): NotificationBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish(events) {
      for (const event of events) emitter.emit('notification', event);
    },
    subscribe(listener) {
      emitter.on('notification', listener);
      return () => emitter.off('notification', listener);
    },
    publishSignal(signal) {
      emitter.emit('signal', signal);
    },
    onSignal(listener) {
      emitter.on('signal', listener);
      return () => emitter.off('signal', listener);
    },
  };
}
