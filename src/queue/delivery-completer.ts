// Removes finished deliveries' rows in batches. Each autocommit delete on SQLite writes its own WAL
// frames for the row's table page and all four of its index pages; at hundreds of pushes a second those
// commits were the largest share of the worker's SQL time. Deliveries that finish in the same turn of the
// event loop are deleted by one statement instead. A crash before the flush leaves the rows leased, so
// they are sent again when the lease expires: the same at-least-once as a crash between send and delete.
import { completeDeliveries } from '../store/deliveries.js';
import type { Db } from '../store/schema.js';

export type Completer = (id: number) => Promise<void>;

export function createDeliveryCompleter(
  db: Db,
  schedule: (flush: () => void) => void = (flush) => setImmediate(flush),
): Completer {
  let pending: { id: number; resolve: () => void; reject: (error: unknown) => void }[] = [];

  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    try {
      await completeDeliveries(db, batch.map((p) => p.id));
      for (const p of batch) p.resolve();
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  };

  return (id) =>
    new Promise<void>((resolve, reject) => {
      pending.push({ id, resolve, reject });
      if (pending.length === 1) schedule(() => void flush());
    });
}
