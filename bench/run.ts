// `npm run bench [-- --quick]`: every measurement beside its baseline from the same run, medians of
// repeats, written to bench/results/ as JSON and as a markdown table.
import fs from 'node:fs';
import path from 'node:path';
import { benchApi } from './api-listing.js';
import { benchPushCrypto } from './push-crypto.js';
import { benchDelivery } from './delivery.js';
import { benchAuth } from './auth-listing.js';
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

const started = Date.now();
progress(`${quick ? 'quick' : 'full'} run on ${JSON.stringify(machine())}`);
progress('1/4 push crypto');
const crypto = await benchPushCrypto({ ms: scale.cryptoMs, repeats: scale.repeats });
progress('2/4 delivery end to end');
const delivery = await benchDelivery({ deliveries: scale.deliveries, repeats: scale.repeats });
progress('3/4 API listing and ingest');
const api = await benchApi({
  accounts: scale.accounts,
  notifications: scale.notifications,
  seconds: scale.seconds,
  repeats: scale.repeats,
  connections: 10,
});
progress('4/4 API listing with host tokens (JWT, introspection)');
const hostTokens = await benchAuth({ ...authScale, connections: 10 });

const results = { date: new Date().toISOString(), quick, machine: machine(), seconds: (Date.now() - started) / 1000, crypto, delivery, api, hostTokens };
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
  `| delivery p99 ingest → receipt at half peak, batches every 10 ms (ms) | ${f0(delivery.herald.halfRateP99Ms)} | | | < 100 |`,
  `| GET /api/v1/notifications?limit=40 (req/s) | ${f0(api.figures.v1.peak.rps)} | bare Fastify ${f0(api.figures.baseline.peak.rps)} | ${api.v1VsBaseline.toFixed(2)} | ≥ 0.5 |`,
  `| v1 p99 at half its peak (ms) | ${f0(api.figures.v1.halfRate.p99)} | ${f0(api.figures.baseline.halfRate.p99)} | | < 20 |`,
  `| GET /api/v2/notifications?limit=40 (req/s) | ${f0(api.figures.v2.peak.rps)} | bare Fastify ${f0(api.figures.baseline.peak.rps)} | ${api.v2VsBaseline.toFixed(2)} | |`,
  `| GET /api/v1/notifications?limit=40 with a JWT (req/s) | ${f0(hostTokens.figures.peak.jwt.rps)} | own token ${f0(hostTokens.figures.peak.own.rps)} | ${hostTokens.jwtVsOwn.toFixed(2)} | ≥ 0.9 |`,
  `| GET /api/v1/notifications?limit=40 with a cached introspected token (req/s) | ${f0(hostTokens.figures.peak.introspection.rps)} | own token ${f0(hostTokens.figures.peak.own.rps)} | ${hostTokens.introspectionVsOwn.toFixed(2)} | ≥ 0.9 |`,
  `| host-token p99 at peak, JWT / introspected (ms) | ${f0(hostTokens.figures.peak.jwt.p99)} / ${f0(hostTokens.figures.peak.introspection.p99)} | own token ${f0(hostTokens.figures.peak.own.p99)} | | |`,
  `| host-token p99 at ${f0(hostTokens.figures.halfRate.rate)} req/s (half the own token's peak), JWT / introspected (ms) | ${f0(hostTokens.figures.halfRate.jwt.p99)} / ${f0(hostTokens.figures.halfRate.introspection.p99)} | own token ${f0(hostTokens.figures.halfRate.own.p99)} | | |`,
  `| ingest through the batch endpoint (events/s, SQLite) | ${f0(api.ingestEventsPerSecond)} | | | ≥ 5000 |`,
  `| peak RSS (MB): API server / delivery server | ${f0(api.peakRssMb)} / ${f0(delivery.herald.peakRssMb)} | | | ≤ 300 |`,
  '',
  `${api.notifications} notifications over ${api.accounts} accounts; ${delivery.deliveries} deliveries per delivery run.`,
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
