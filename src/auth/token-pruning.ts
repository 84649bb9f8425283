// SPEC §13: rows of external tokens without a push subscription go once expired, or unseen for 30 days, so
// short-lived JWTs do not grow the table. Hourly, from each worker process (the delete is idempotent).
import type { Db } from '../store/schema.js';
import { pruneExternalTokens } from '../store/tokens.js';

export const PRUNE_EVERY_MS = 60 * 60_000;
export const UNSEEN_FOR_MS = 30 * 24 * 60 * 60_000;

export function startTokenPruning(deps: {
  db: Db;
  now: () => number;
  onPruned: (count: number) => void;
  onError: (error: unknown) => void;
}): () => void {
  const run = (): void => {
    pruneExternalTokens(deps.db, deps.now(), UNSEEN_FOR_MS).then((n) => n > 0 && deps.onPruned(n), deps.onError);
  };
  run();
  const timer = setInterval(run, PRUNE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
