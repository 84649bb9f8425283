// Carries the notification bus across processes through PostgreSQL LISTEN/NOTIFY, so a notification
// ingested by one `herald web` reaches the streams of every other process and wakes every worker.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { BusSignal, CommittedNotification, NotificationBus } from '../services/notification-bus.js';

const CHANNEL = 'herald_notifications';
/** NOTIFY payloads are limited to 8000 bytes: events are sent in chunks well below that. */
const EVENTS_PER_NOTIFY = 50;
const TOKEN_IDS_PER_NOTIFY = 400;

export interface PostgresBus extends NotificationBus {
  close(): Promise<void>;
}

export async function createPostgresBus(connectionString: string, local: NotificationBus): Promise<PostgresBus> {
  const origin = randomUUID();
  const listener = new pg.Client({ connectionString });
  // One connection, one chain of queries: notifications go out in the order they were committed.
  const sender = new pg.Pool({ connectionString, max: 1 });
  sender.on('error', () => {});
  let chain: Promise<unknown> = Promise.resolve();
  listener.on('error', () => {});
  await listener.connect();
  await listener.query(`LISTEN ${CHANNEL}`);
  listener.on('notification', (message) => {
    if (message.channel !== CHANNEL || !message.payload) return;
    try {
      const parsed = JSON.parse(message.payload) as { origin: string; events?: CommittedNotification[]; signal?: BusSignal };
      // This process already delivered its own events locally.
      if (parsed.origin === origin) return;
      if (parsed.events) local.publish(parsed.events);
      if (parsed.signal) local.publishSignal(parsed.signal);
    } catch {
      // Not ours: another program may use the channel name.
    }
  });
  // Best effort: a lost wake-up only delays a push until the worker's next poll, and a lost revocation
  // is caught by each process's stream sweep (src/stream/stream-connections.ts) within seconds.
  const notify = (message: object): void => {
    const payload = JSON.stringify({ origin, ...message });
    chain = chain.then(() => sender.query('select pg_notify($1, $2)', [CHANNEL, payload])).catch(() => {});
  };
  return {
    publish(events) {
      local.publish(events);
      for (let i = 0; i < events.length; i += EVENTS_PER_NOTIFY) notify({ events: events.slice(i, i + EVENTS_PER_NOTIFY) });
    },
    subscribe: local.subscribe,
    publishSignal(signal) {
      local.publishSignal(signal);
      if (signal.kind !== 'tokens_revoked') return notify({ signal });
      for (let i = 0; i < signal.tokenIds.length; i += TOKEN_IDS_PER_NOTIFY) {
        notify({ signal: { ...signal, tokenIds: signal.tokenIds.slice(i, i + TOKEN_IDS_PER_NOTIFY) } });
      }
    },
    onSignal: local.onSignal,
    async close() {
      await chain;
      await listener.end().catch(() => {});
      await sender.end().catch(() => {});
    },
  };
}
