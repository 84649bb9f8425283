// Delivery benchmark, end to end: events ingested through the admin API until a local push service has
// received their pushes, against a web-push sendNotification loop to the same receiver at the same
// concurrency; then p99 from ingest to receipt at half Herald's peak rate, fed in small batches.
import { createECDH, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { engineOf, storeEnv } from './api-listing.js';
import { startBenchReceiver } from './push-receiver.js';
import { admin, median, pool, progress, ROOT, startHerald } from './support.js';

const run = promisify(execFile);
const RECIPIENTS = 20;
const CONCURRENCY = 64; // the delivery worker's default
const TICK_MS = 10;
/** Events timed in the half-peak phase: five seconds of it, at most. */
const HALF_RATE_MAX = 5000;
/**
 * The half-peak phase's first second is not timed, as each listing measurement has a second of warm-up:
 * Herald sits idle while the web-push baseline runs, the receiver closes its connections (Node's 5 s
 * keep-alive), and the first pushes wait for new TLS handshakes (the slowest 1 % of a full run all fell
 * in the phase's first 0.8 s).
 */
const HALF_RATE_WARMUP_S = 1;

export interface DeliveryOptions {
  readonly deliveries: number;
  readonly repeats: number;
  /** A PostgreSQL DATABASE_URL for the Herald under test; SQLite in a temporary directory when absent. */
  readonly databaseUrl?: string;
  /** Run the web-push loop baseline too (default true; a PostgreSQL run shares the SQLite run's). */
  readonly webPush?: boolean;
}

export async function benchDelivery(options: DeliveryOptions) {
  const engine = engineOf(options.databaseUrl);
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const keys = { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') };
  const receiver = await startBenchReceiver({ ecdh, auth });
  const herald = await startHerald({
    HERALD_PUSH_ALLOW_PRIVATE: '127.0.0.1',
    HERALD_VAPID_SUBJECT: 'mailto:bench@example.com',
    NODE_EXTRA_CA_CERTS: receiver.certFile,
    ...storeEnv(options.databaseUrl),
  });
  try {
    const actors = Math.ceil(options.deliveries / RECIPIENTS);
    const recipients = Array.from({ length: RECIPIENTS }, (_, i) => `r${i}`);
    const halfRateEvents = HALF_RATE_MAX * (1 + HALF_RATE_WARMUP_S / 5);
    const actorIds = Array.from({ length: actors * options.repeats + Math.ceil(halfRateEvents / RECIPIENTS) }, (_, i) => `a${i}`);
    progress(`delivery (${engine}): ${RECIPIENTS} subscribed recipients, ${actorIds.length} actors`);
    await pool([...recipients, ...actorIds], 16, (id) => admin(herald.url, 'PUT', `/accounts/${id}`, { username: id, acct: id }));
    for (const r of recipients) {
      const token = (await admin(herald.url, 'POST', '/tokens', { account_id: r, scopes: 'push' })).access_token;
      const res = await fetch(`${herald.url}/api/v1/push/subscription`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          subscription: { endpoint: `${receiver.url}/push/${r}`, keys, standard: true },
          data: { alerts: { follow: true }, policy: 'all' },
        }),
      });
      if (!res.ok) throw new Error(`subscribe: ${res.status} ${await res.text()}`);
    }

    // Peak: batches of follows from fresh actors (identical events would be de-duplicated).
    let actorCursor = 0;
    const heraldRuns: number[] = [];
    for (let r = 0; r < options.repeats; r++) {
      const before = receiver.arrivals.length;
      const events = [];
      for (let i = 0; i < actors; i++) {
        const actor = actorIds[actorCursor++];
        for (const recipient of recipients) events.push({ account_id: recipient, type: 'follow', from_account_id: actor });
      }
      const started = performance.now();
      for (let i = 0; i < events.length; i += 1000) {
        await admin(herald.url, 'POST', '/notifications/batch', { events: events.slice(i, i + 1000) });
      }
      await receiver.waitFor(before + events.length, 120_000);
      const seconds = (receiver.arrivals[before + events.length - 1] - started) / 1000;
      heraldRuns.push(events.length / seconds);
      progress(`  herald run ${r + 1} (${engine}): ${heraldRuns[r].toFixed(0)} pushes/s`);
    }

    const webPushRuns: number[] = [];
    for (let r = 0; r < (options.webPush === false ? 0 : options.repeats); r++) {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'bench/web-push-loop.ts'), `${receiver.url}/push/baseline`, keys.p256dh, keys.auth, String(options.deliveries), String(CONCURRENCY)],
        { cwd: ROOT, env: { ...process.env, NODE_EXTRA_CA_CERTS: receiver.certFile } },
      );
      webPushRuns.push(options.deliveries / (JSON.parse(stdout) as { seconds: number }).seconds);
      progress(`  web-push run ${r + 1}: ${webPushRuns[r].toFixed(0)} pushes/s`);
    }

    // Latency at half the peak rate. The peak came in through the batch endpoint, so the steady load does
    // too: every TICK_MS, one batch of the events that fell due since the last one, each event timed from
    // its batch's POST to its push's arrival. (Posting each event on its own measures single-event ingest,
    // whose own ceiling is below half the delivery peak: the queue then only grows.)
    const peak = median(heraldRuns);
    const rate = Math.max(1, Math.floor(peak / 2));
    const count = Math.min(Math.max(rate * 5, 100), HALF_RATE_MAX);
    const warmup = Math.floor((count / 5) * HALF_RATE_WARMUP_S);
    receiver.keepBodies = true;
    const posted = new Map<number, number>();
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    /** How long each batch's POST took: the ingest's share of the latency. */
    const ingestMs: number[] = [];
    for (let sent = 0; sent < warmup + count; ) {
      const due = Math.min(warmup + count, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
      const first = sent;
      const events = [];
      for (; sent < due; sent++) {
        events.push({ account_id: recipients[sent % RECIPIENTS], type: 'follow', from_account_id: actorIds[actorCursor + Math.floor(sent / RECIPIENTS)] });
      }
      const at = performance.now();
      inFlight.push(
        admin(herald.url, 'POST', '/notifications/batch', { events }).then((res: { results: { id?: string }[] }) => {
          if (first + events.length <= warmup) return;
          ingestMs.push(performance.now() - at);
          res.results.forEach((result, i) => {
            if (first + i >= warmup && result.id !== undefined) posted.set(Number(result.id), at);
          });
        }),
      );
      await new Promise((res) => setTimeout(res, TICK_MS));
    }
    await Promise.all(inFlight);
    const deadline = Date.now() + 60_000;
    while (receiver.kept < warmup + count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const arrived = receiver.byNotification();
    const timed = [...posted].flatMap(([id, at]) => {
      const got = arrived.get(id);
      return got === undefined ? [] : [{ at: at - started, latency: got - at }];
    });
    const latencies = timed.map((t) => t.latency);
    // Where the slowest 1% fell (ms into the run): a warm-up, a pause, or spread all along.
    const slowest = [...timed].sort((a, b) => b.latency - a.latency).slice(0, Math.max(1, Math.ceil(timed.length / 100)));
    latencies.sort((a, b) => a - b);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    const webPush = webPushRuns.length > 0 ? median(webPushRuns) : NaN;
    return {
      engine,
      deliveries: options.deliveries,
      concurrency: CONCURRENCY,
      herald: {
        perSecond: peak,
        runs: heraldRuns,
        halfRate: rate,
        halfRateP50Ms: p(0.5),
        halfRateP90Ms: p(0.9),
        halfRateP99Ms: p(0.99),
        halfRateSlowestAtMs: slowest.map((t) => Math.round(t.at)),
        halfRateReceived: latencies.length,
        halfRateSent: count,
        /** p99 of the batch POSTs alone (ingest, commit and answer) in the half-peak phase. */
        halfRateIngestP99Ms: ingestMs.sort((a, b) => a - b)[Math.min(ingestMs.length - 1, Math.floor(0.99 * ingestMs.length))] ?? NaN,
        peakRssMb: herald.peakRssMb(),
      },
      webPush: { perSecond: webPush, runs: webPushRuns },
      ratio: peak / webPush,
    };
  } finally {
    await herald.stop();
    await receiver.close();
  }
}
