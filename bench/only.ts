// `tsx bench/only.ts delivery|api|ingest|auth [--quick]`: one part of the benchmark, for profiling (see
// BENCH_HERALD_NODE_ARGS in support.ts); prints its figures as JSON. `npm run build` first.
// api and auth: BENCH_ACCOUNTS, BENCH_NOTIFICATIONS and BENCH_SECONDS change the store and the load; auth
// also BENCH_REPEATS and BENCH_TOKENS (tokens of each kind), and runs 3 repeats of 2 s unless told, since a
// single run's ratio is mostly noise. ingest only seeds a store of that size.
import { benchApi, benchIngest } from './api-listing.js';
import { benchAuth } from './auth-listing.js';
import { benchDelivery } from './delivery.js';

const part = process.argv[2];
const quick = process.argv.includes('--quick');
const store = {
  accounts: Number(process.env.BENCH_ACCOUNTS ?? 1000),
  notifications: Number(process.env.BENCH_NOTIFICATIONS ?? (quick ? 20_000 : 100_000)),
};
const show = (figures: unknown) => console.log(JSON.stringify(figures, null, 2));
if (part === 'delivery') {
  show(await benchDelivery({ deliveries: quick ? 500 : 5000, repeats: 1 }));
} else if (part === 'api') {
  show(await benchApi({ ...store, seconds: Number(process.env.BENCH_SECONDS ?? 3), repeats: 1, connections: 10 }));
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
  show(await benchIngest(store));
} else {
  console.error('usage: tsx bench/only.ts delivery|api|ingest|auth [--quick]');
  process.exit(2);
}
