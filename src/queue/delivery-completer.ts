// Removes finished deliveries' rows in batches. Each autocommit delete on SQLite writes its own WAL
// frames for the row's table page and all four of its index pages; at hundreds of pushes a second those
// commits were the largest share of the worker's SQL time. Deliveries that finish within a few
// milliseconds of each other are deleted by one statement instead. A crash before the flush leaves the
// rows leased, so they are sent again when the lease expires: the same at-least-once as a crash between
// send and delete.
import { completeDeliveries } from '../store/deliveries.js';
import type { Db } from '../store/schema.js';

export type Completer = (id: number) => Promise<void>;

/**
 * How long a finished delivery waits for others to share its delete. Deleting what finished in one turn of
 * the event loop made ~9 rows a statement at the delivery benchmark's peak, each delete ~400 µs of the main
 * thread (≥55 µs a push); waiting 3 ms gathers ~4× as many per statement for about the same cost each.
 */
export const COMPLETE_GATHER_MS = 3;

export function createDeliveryCompleter(
  db: Db,
  schedule: (flush: () => void) => void = (flush) => void setTimeout(flush, COMPLETE_GATHER_MS),
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
