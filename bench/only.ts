// `tsx bench/only.ts delivery|api|ingest|auth [--quick] [--postgres|--both]`: one part of the benchmark, for
// profiling (see BENCH_HERALD_NODE_ARGS in support.ts); prints its figures as JSON. `npm run build` first.
// api and auth: BENCH_ACCOUNTS, BENCH_NOTIFICATIONS and BENCH_SECONDS change the store and the load; auth
// also BENCH_REPEATS and BENCH_TOKENS (tokens of each kind), and runs 3 repeats of 2 s unless told, since a
// single run's ratio is mostly noise. ingest only seeds a store of that size.
// --postgres runs delivery, api or ingest on a PostgreSQL of the bench's own (bench/postgres.ts; a fresh
// database for each), --both on SQLite and then on PostgreSQL in the same run (the figures side by side);
// BENCH_PG_LOG_MS logs PostgreSQL's slow statements.
import { benchApi, benchIngest } from './api-listing.js';
import { benchAuth } from './auth-listing.js';
import { benchDelivery } from './delivery.js';
import { withDatabase, withPostgres } from './postgres.js';

const part = process.argv[2];
const quick = process.argv.includes('--quick');
const engines = process.argv.includes('--both') ? ['sqlite', 'postgres'] : process.argv.includes('--postgres') ? ['postgres'] : ['sqlite'];
const store = {
  accounts: Number(process.env.BENCH_ACCOUNTS ?? 1000),
  notifications: Number(process.env.BENCH_NOTIFICATIONS ?? (quick ? 20_000 : 100_000)),
};
const show = (figures: unknown) => console.log(JSON.stringify(figures, null, 2));

/** Runs one measurement on each asked engine, with `databaseUrl` undefined for SQLite. */
async function onEngines<T>(measure: (databaseUrl: string | undefined) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  if (engines.includes('sqlite')) results.push(await measure(undefined));
  if (engines.includes('postgres')) results.push(await withPostgres((server) => withDatabase(server, measure)));
  return results;
}
const showAll = (results: unknown[]) => show(results.length === 1 ? results[0] : results);

if (part === 'delivery') {
  showAll(await onEngines((databaseUrl) => benchDelivery({ deliveries: quick ? 500 : 5000, repeats: 1, databaseUrl })));
} else if (part === 'api') {
  showAll(
    await onEngines((databaseUrl) =>
      benchApi({ ...store, seconds: Number(process.env.BENCH_SECONDS ?? 3), repeats: 1, connections: 10, databaseUrl }),
    ),
  );
} else if (part === 'auth') {
  show(
    await benchAuth({
      ...store,
      tokens: Number(process.env.BENCH_TOKENS ?? (quick ? 50 : 200)),
      seconds: Number(process.env.BENCH_SECONDS ?? 2),
      repeats: Number(process.env.BENCH_REPEATS ?? 3),
      connections: 10,
    }),
  );
} else if (part === 'ingest') {
  const results = await onEngines((databaseUrl) => benchIngest({ ...store, databaseUrl }));
  showAll(results);
  if (results.length === 2) {
    const [sqlite, postgres] = results;
    console.log(
      `ingest: SQLite ${sqlite.ingestEventsPerSecond.toFixed(0)} events/s, PostgreSQL ${postgres.ingestEventsPerSecond.toFixed(0)} events/s ` +
        `(${((100 * postgres.ingestEventsPerSecond) / sqlite.ingestEventsPerSecond).toFixed(0)} % of SQLite)`,
    );
  }
} else {
  console.error('usage: tsx bench/only.ts delivery|api|ingest|auth [--quick] [--postgres|--both]');
  process.exit(2);
}
