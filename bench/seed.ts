// Fills a Herald with accounts, statuses, tokens and notifications through its admin API; the batch
// ingest rate is measured on the way.
import { admin, pool, progress } from './support.js';

export interface Seeded {
  readonly tokens: string[];
  /** The account of each token, in the same order. */
  readonly tokenAccounts: string[];
  readonly ingestEventsPerSecond: number;
  /** Seconds from the first batch to the end of every 50,000th event: the rate over a store's first part. */
  readonly ingestSecondsEvery50k: number[];
}

/** A small deterministic generator, so every run seeds the same store. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const TYPES = ['favourite', 'follow', 'mention', 'reblog', 'favourite', 'follow'] as const;

export async function seed(
  base: string,
  options: { accounts: number; notifications: number; statuses: number; tokens: number },
): Promise<Seeded> {
  const rand = random(42);
  const ids = Array.from({ length: options.accounts }, (_, i) => String(i + 1));
  progress(`seeding ${options.accounts} accounts, ${options.statuses} statuses`);
  await pool(ids, 16, (id) =>
    admin(base, 'PUT', `/accounts/${id}`, { username: `u${id}`, acct: `u${id}`, display_name: `User ${id}` }),
  );
  const statusIds = Array.from({ length: options.statuses }, (_, i) => String(i + 1));
  await pool(statusIds, 16, (id) =>
    admin(base, 'PUT', `/statuses/${id}`, {
      content: `<p>status ${id} with some text to make it realistic</p>`,
      spoiler_text: '',
      visibility: 'public',
      account: { id: ids[Number(id) % ids.length] },
    }),
  );
  const tokens: string[] = [];
  const tokenAccounts: string[] = [];
  for (let i = 0; i < options.tokens; i++) {
    const account = ids[Math.floor(rand() * ids.length)];
    tokenAccounts.push(account);
    tokens.push((await admin(base, 'POST', '/tokens', { account_id: account, scopes: 'read write' })).access_token);
  }
  progress(`ingesting ${options.notifications} notifications in batches of 1000`);
  const started = performance.now();
  let windowStarted = started;
  const every50k: number[] = [];
  for (let done = 0; done < options.notifications; done += 1000) {
    const events = [];
    for (let i = 0; i < Math.min(1000, options.notifications - done); i++) {
      const type = TYPES[Math.floor(rand() * TYPES.length)];
      const recipient = ids[Math.floor(rand() * ids.length)];
      let actor = ids[Math.floor(rand() * ids.length)];
      if (actor === recipient) actor = ids[(Number(actor) % ids.length)];
      events.push({
        account_id: recipient,
        type,
        from_account_id: actor,
        status_id: type === 'follow' ? undefined : statusIds[Math.floor(rand() * statusIds.length)],
        relationship: { following: true, followed_by: true },
      });
    }
    await admin(base, 'POST', '/notifications/batch', { events });
    if ((done / 1000) % 50 === 49) {
      const now = performance.now();
      progress(`  ${done + 1000} ingested, the last 50,000 at ${(50_000_000 / (now - windowStarted)).toFixed(0)} events/s`);
      windowStarted = now;
      every50k.push((now - started) / 1000);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { tokens, tokenAccounts, ingestEventsPerSecond: options.notifications / seconds, ingestSecondsEvery50k: every50k };
}
