import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createLocalBus, type CommittedNotification } from '../../src/services/notification-bus.js';
import { createPostgresBus } from '../../src/stream/postgres-bus.js';

describe('notification bus across processes (PostgreSQL LISTEN/NOTIFY)', () => {
  it('delivers events published by one process to the others, once each', async () => {
    const url = inject('postgresUrl');
    const a = await createPostgresBus(url, createLocalBus());
    const b = await createPostgresBus(url, createLocalBus());
    try {
      const seenByA: CommittedNotification[] = [];
      const seenByB: CommittedNotification[] = [];
      a.subscribe((e) => seenByA.push(e));
      const arrived = new Promise<void>((resolve) =>
        b.subscribe((e) => {
          seenByB.push(e);
          if (seenByB.length === 120) resolve();
        }),
      );
      const events = Array.from({ length: 120 }, (_, i) => ({ accountId: 'acc', notificationId: i + 1, filtered: false, deliveries: 0 }));
      a.publish(events);
      await arrived;
      expect(seenByB.map((e) => e.notificationId)).toEqual(events.map((e) => e.notificationId));
      // A hears its own events once, locally, not again through PostgreSQL.
      await new Promise((r) => setTimeout(r, 200));
      expect(seenByA).toHaveLength(120);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
