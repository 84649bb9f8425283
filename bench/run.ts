// `npm run bench [-- --quick]`: every measurement beside its baseline from the same run, medians of
// repeats, written to bench/results/ as JSON and as a markdown table. Delivery, ingest and listing run on
// SQLite and then on PostgreSQL (an embedded one the bench starts and stops, bench/postgres.ts), side by side.
import fs from 'node:fs';
import path from 'node:path';
import { benchApi } from './api-listing.js';
import { benchPushCrypto } from './push-crypto.js';
import { benchDelivery } from './delivery.js';
import { benchAuth } from './auth-listing.js';
import { withDatabase, withPostgres } from './postgres.js';
import { machine, progress, ROOT } from './support.js';

const quick = process.argv.includes('--quick');
const scale = quick
  ? { accounts: 1000, notifications: 20_000, seconds: 3, repeats: 1, cryptoMs: 400, deliveries: 500 }
  : { accounts: 10_000, notifications: 1_000_000, seconds: 10, repeats: 3, cryptoMs: 2000, deliveries: 5000 };
// The host-token comparison needs full pages, not a big store: about 40 (quick) or 100 notifications an account.
// Its ratios need repeats even when quick: one run against another differs by 10-20 % on a busy 2-core machine.
const authScale = quick
  ? { accounts: 500, notifications: 20_000, tokens: 50, seconds: 2, repeats: 3 }
  : { accounts: 1000, notifications: 100_000, tokens: 200, seconds: 10, repeats: 3 };
// PostgreSQL: the same measurements on a smaller store when full (seeding 1M notifications through the API
// takes minutes more on it); its ingest is compared with SQLite's over the same first part of SQLite's store.
const pgScale = quick
  ? { accounts: 1000, notifications: 20_000, seconds: 3, repeats: 1, deliveries: 500 }
  : { accounts: 10_000, notifications: 200_000, seconds: 10, repeats: 3, deliveries: 5000 };

const started = Date.now();
progress(`${quick ? 'quick' : 'full'} run on ${JSON.stringify(machine())}`);
progress('1/5 push crypto');
const crypto = await benchPushCrypto({ ms: scale.cryptoMs, repeats: scale.repeats });
progress('2/5 delivery end to end');
const delivery = await benchDelivery({ deliveries: scale.deliveries, repeats: scale.repeats });
progress('3/5 API listing and ingest');
const api = await benchApi({
  accounts: scale.accounts,
  notifications: scale.notifications,
  seconds: scale.seconds,
  repeats: scale.repeats,
  connections: 10,
});
progress('4/5 API listing with host tokens (JWT, introspection)');
const hostTokens = await benchAuth({ ...authScale, connections: 10 });
progress('5/5 PostgreSQL: delivery, ingest and listing');
const pgStarted = Date.now();
const postgres = await withPostgres(async (server) => {
  const pgDelivery = await withDatabase(server, (databaseUrl) =>
    benchDelivery({ deliveries: pgScale.deliveries, repeats: pgScale.repeats, databaseUrl, webPush: false }),
  );
  const pgApi = await withDatabase(server, (databaseUrl) =>
    benchApi({ ...pgScale, connections: 10, databaseUrl, baseline: false }),
  );
  return { version: server.version, delivery: pgDelivery, api: pgApi };
});
const pgSeconds = (Date.now() - pgStarted) / 1000;
progress(`PostgreSQL part: ${pgSeconds.toFixed(0)} s`);
/** SQLite's ingest rate over the first `n` events of its store, to compare with PostgreSQL's on a store of n. */
function sqliteIngestOver(n: number): { rate: number; over: string } {
  if (n >= api.notifications) return { rate: api.ingestEventsPerSecond, over: 'its whole store' };
  const at = api.ingestSecondsEvery50k[n / 50_000 - 1];
  if (Number.isInteger(n / 50_000) && at !== undefined) return { rate: n / at, over: `its first ${n.toLocaleString('en')}` };
  return { rate: api.ingestEventsPerSecond, over: `its whole store of ${api.notifications.toLocaleString('en')}` };
}
const sqliteIngest = sqliteIngestOver(postgres.api.notifications);

const results = {
  date: new Date().toISOString(),
  quick,
  machine: machine(),
  seconds: (Date.now() - started) / 1000,
  crypto,
  delivery,
  api,
  hostTokens,
  postgres: { ...postgres, seconds: pgSeconds, sqliteIngestSameStore: sqliteIngest },
};
const pgApi = postgres.api;
const pgDelivery = postgres.delivery;
const baselinePeak = api.figures.baseline.peak.rps;
const f0 = (n: number) => n.toFixed(0);
const f1 = (n: number) => n.toFixed(1);
const table = [
  `Herald benchmark, ${results.date}, ${quick ? 'quick' : 'full'} run, node ${process.version}, ${results.machine.cores} cores`,
  '',
  '| measurement | Herald | baseline | ratio | target |',
  '|---|---|---|---|---|',
  ...Object.entries(crypto).map(
    ([enc, r]) => `| push encryption + VAPID, ${enc} (msg/s, one core) | ${f0(r.herald)} | web-push ${f0(r.webPush)} | ${f1(r.ratio)}× | ≥ 4× |`,
  ),
  `| delivery end to end (pushes/s) | ${f0(delivery.herald.perSecond)} | web-push loop ${f0(delivery.webPush.perSecond)} | ${f1(delivery.ratio)}× | ≥ 3× |`,
  `| delivery end to end (pushes/s, PostgreSQL) | ${f0(pgDelivery.herald.perSecond)} | web-push loop ${f0(delivery.webPush.perSecond)} | ${f1(pgDelivery.herald.perSecond / delivery.webPush.perSecond)}× | |`,
  `| delivery p99 ingest → receipt at half peak, batches every 10 ms (ms) | ${f0(delivery.herald.halfRateP99Ms)} | | | < 100 |`,
  `| delivery p99 at half peak (ms, PostgreSQL; the batch POSTs alone) | ${f0(pgDelivery.herald.halfRateP99Ms)} (${f0(pgDelivery.herald.halfRateIngestP99Ms)}) | | | |`,
  `| GET /api/v1/notifications?limit=40 (req/s) | ${f0(api.figures.v1.peak.rps)} | bare Fastify ${f0(api.figures.baseline.peak.rps)} | ${api.v1VsBaseline.toFixed(2)} | ≥ 0.5 |`,
  `| GET /api/v1/notifications?limit=40 (req/s, PostgreSQL) | ${f0(pgApi.figures.v1.peak.rps)} | bare Fastify ${f0(baselinePeak)} | ${(pgApi.figures.v1.peak.rps / baselinePeak).toFixed(2)} | |`,
  `| v1 with the page cache off: every page rendered (req/s) | ${f0(api.figures.v1Uncached.peak.rps)} | bare Fastify ${f0(baselinePeak)} | ${api.v1UncachedVsBaseline.toFixed(2)} | |`,
  `| v1 with the page cache off (req/s, PostgreSQL) | ${f0(pgApi.figures.v1Uncached.peak.rps)} | bare Fastify ${f0(baselinePeak)} | ${(pgApi.figures.v1Uncached.peak.rps / baselinePeak).toFixed(2)} | |`,
  `| v1 p99 at half its peak (ms) | ${f0(api.figures.v1.halfRate.p99)} | ${f0(api.figures.baseline.halfRate.p99)} | | < 20 |`,
  `| v1 p99 at half its peak (ms, PostgreSQL) | ${f0(pgApi.figures.v1.halfRate.p99)} | ${f0(api.figures.baseline.halfRate.p99)} | | |`,
  `| GET /api/v2/notifications?limit=40 (req/s) | ${f0(api.figures.v2.peak.rps)} | bare Fastify ${f0(api.figures.baseline.peak.rps)} | ${api.v2VsBaseline.toFixed(2)} | ≥ 0.25 |`,
  `| GET /api/v2/notifications?limit=40 (req/s, PostgreSQL) | ${f0(pgApi.figures.v2.peak.rps)} | bare Fastify ${f0(baselinePeak)} | ${(pgApi.figures.v2.peak.rps / baselinePeak).toFixed(2)} | |`,
  `| v2 with the page cache off (req/s) | ${f0(api.figures.v2Uncached.peak.rps)} | bare Fastify ${f0(baselinePeak)} | ${api.v2UncachedVsBaseline.toFixed(2)} | |`,
  `| v2 with the page cache off (req/s, PostgreSQL) | ${f0(pgApi.figures.v2Uncached.peak.rps)} | bare Fastify ${f0(baselinePeak)} | ${(pgApi.figures.v2Uncached.peak.rps / baselinePeak).toFixed(2)} | |`,
  `| GET /api/v1/notifications?limit=40 with a JWT (req/s) | ${f0(hostTokens.figures.peak.jwt.rps)} | own token ${f0(hostTokens.figures.peak.own.rps)} | ${hostTokens.jwtVsOwn.toFixed(2)} | ≥ 0.9 |`,
  `| GET /api/v1/notifications?limit=40 with a cached introspected token (req/s) | ${f0(hostTokens.figures.peak.introspection.rps)} | own token ${f0(hostTokens.figures.peak.own.rps)} | ${hostTokens.introspectionVsOwn.toFixed(2)} | ≥ 0.9 |`,
  `| host-token p99 at peak, JWT / introspected (ms) | ${f0(hostTokens.figures.peak.jwt.p99)} / ${f0(hostTokens.figures.peak.introspection.p99)} | own token ${f0(hostTokens.figures.peak.own.p99)} | | |`,
  `| host-token p99 at ${f0(hostTokens.figures.halfRate.rate)} req/s (half the own token's peak), JWT / introspected (ms) | ${f0(hostTokens.figures.halfRate.jwt.p99)} / ${f0(hostTokens.figures.halfRate.introspection.p99)} | own token ${f0(hostTokens.figures.halfRate.own.p99)} | | |`,
  `| ingest through the batch endpoint (events/s, SQLite) | ${f0(api.ingestEventsPerSecond)} | | | ≥ 5000 |`,
  `| ingest through the batch endpoint (events/s, PostgreSQL) | ${f0(pgApi.ingestEventsPerSecond)} | SQLite ${f0(sqliteIngest.rate)}${sqliteIngest.over === 'its whole store' ? '' : `, ${sqliteIngest.over}`} | ${(pgApi.ingestEventsPerSecond / sqliteIngest.rate).toFixed(2)} | ≥ 0.5 |`,
  `| peak RSS (MB): API server / delivery server | ${f0(api.peakRssMb)} / ${f0(delivery.herald.peakRssMb)} | | | ≤ 256 |`,
  '',
  `${api.notifications} notifications over ${api.accounts} accounts; ${delivery.deliveries} deliveries per delivery run. ` +
    'Listing: 200 tokens of as many accounts in turn, 10 connections; with the page cache on (the default) a page polled again is served from it while nothing on it changed, and the same store is then read by a process with the cache off.',
  `PostgreSQL: an embedded PostgreSQL ${postgres.version} on 127.0.0.1 with its default settings (fsync and synchronous_commit on; max_connections 200), a fresh database per measurement; ` +
    `${pgApi.notifications} notifications over ${pgApi.accounts} accounts${pgApi.notifications < api.notifications ? " (a smaller store than SQLite's: seeding a million through the API would add minutes)" : ''}, ` +
    `${pgDelivery.deliveries} deliveries per delivery run; its ingest beside SQLite's over ${sqliteIngest.over}; ` +
    `the baselines are the SQLite part's; ${f0(pgSeconds)} s in all.`,
  `Host tokens: ${hostTokens.notifications} notifications over ${hostTokens.accounts} accounts, ${hostTokens.tokensPerKind} tokens of each kind for the same accounts, ` +
    `every host token seen once before the load; ${hostTokens.introspectionCallsDuringLoad} introspection calls during the load` +
    `${hostTokens.failures > 0 ? `; ${hostTokens.failures} requests FAILED` : ''}.`,
].join('\n');

const dir = path.join(ROOT, 'bench/results');
fs.mkdirSync(dir, { recursive: true });
const name = quick ? 'latest-quick' : 'latest';
fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
fs.writeFileSync(path.join(dir, `${name}.md`), `${table}\n`);
console.log(table);
progress(`done in ${results.seconds.toFixed(0)} s; written to bench/results/${name}.{json,md}`);
