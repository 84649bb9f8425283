// API benchmark: GET /api/v1/notifications?limit=40 (and v2) on a seeded store, against a bare Fastify
// route answering the same bytes (the HTTP floor), each at peak and p99 at half the peak rate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load, type LoadResult } from './load.js';
import { seed } from './seed.js';
import { median, progress, ROOT, startHerald, startProcess } from './support.js';

export interface ApiOptions {
  readonly accounts: number;
  readonly notifications: number;
  readonly seconds: number;
  readonly repeats: number;
  readonly connections: number;
  /** A PostgreSQL DATABASE_URL for the Herald under test; SQLite in a temporary directory when absent. */
  readonly databaseUrl?: string;
  /** Measure the bare Fastify baseline too (default true; a PostgreSQL run shares the SQLite run's). */
  readonly baseline?: boolean;
}

export type Engine = 'SQLite' | 'PostgreSQL';

export const engineOf = (databaseUrl: string | undefined): Engine => (databaseUrl === undefined ? 'SQLite' : 'PostgreSQL');

/** The environment that points a Herald at its store. */
export const storeEnv = (databaseUrl: string | undefined): Record<string, string> =>
  databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl };

export async function measure(label: string, run: () => Promise<LoadResult>, repeats: number): Promise<LoadResult> {
  const results: LoadResult[] = [];
  for (let r = 0; r < repeats; r++) {
    results.push(await run());
    progress(`  ${label} run ${r + 1}: ${results[r].rps.toFixed(0)} req/s, p99 ${results[r].p99} ms`);
  }
  return medianOf(results);
}

/** Median rate and latencies of several runs; errors and non-2xx answers summed. */
export function medianOf(results: readonly LoadResult[]): LoadResult {
  return {
    rps: median(results.map((x) => x.rps)),
    p50: median(results.map((x) => x.p50)),
    p99: median(results.map((x) => x.p99)),
    errors: results.reduce((a, x) => a + x.errors, 0),
    non2xx: results.reduce((a, x) => a + x.non2xx, 0),
  };
}

/** The seeded store: a status for every tenth account, at least 100. */
export const storeOf = ({ accounts, notifications }: { accounts: number; notifications: number }, tokens: number) => ({
  accounts,
  notifications,
  statuses: Math.max(100, accounts / 10),
  tokens,
});

/** Seeds a store through the admin API and reports the batch ingest rate and the server's peak memory. */
export async function benchIngest(options: { accounts: number; notifications: number; databaseUrl?: string }) {
  const { databaseUrl, ...store } = options;
  progress(`ingest: ${store.notifications} notifications over ${store.accounts} accounts (${engineOf(databaseUrl)})`);
  const herald = await startHerald(storeEnv(databaseUrl));
  try {
    const seeded = await seed(herald.url, storeOf(store, 1));
    return {
      ...store,
      engine: engineOf(databaseUrl),
      ingestEventsPerSecond: seeded.ingestEventsPerSecond,
      ingestSecondsEvery50k: seeded.ingestSecondsEvery50k,
      peakRssMb: herald.peakRssMb(),
    };
  } finally {
    await herald.stop();
  }
}

export async function benchApi(options: ApiOptions) {
  const engine = engineOf(options.databaseUrl);
  progress(`API: ${options.notifications} notifications over ${options.accounts} accounts (${engine}, one process)`);
  // The store outlives the first process: a second one reads it with the page cache off.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-api-'));
  const env = { ...storeEnv(options.databaseUrl), HERALD_DATA_DIR: dataDir };
  const herald = await startHerald(env);
  const baselineBody = path.join(dataDir, 'baseline-page.json');
  let stopped = false;
  try {
    const seeded = await seed(herald.url, storeOf(options, 200));
    const ingestPeakRssMb = herald.peakRssMb();
    progress(`ingest: ${seeded.ingestEventsPerSecond.toFixed(0)} events/s through the batch endpoint (${engine}), peak RSS ${ingestPeakRssMb.toFixed(0)} MB`);
    const common = { seconds: options.seconds, connections: options.connections };
    const figures: Record<string, { peak: LoadResult; halfRate?: LoadResult }> = {};
    const targets: [string, string, string, readonly string[] | undefined][] = [
      ['v1', herald.url, '/api/v1/notifications?limit=40', seeded.tokens],
      ['v2', herald.url, '/api/v2/notifications?limit=40', seeded.tokens],
    ];
    let baseline: Awaited<ReturnType<typeof startProcess>> | undefined;
    if (options.baseline ?? true) {
      // The baseline answers the very bytes of a full Herald page.
      let page = '';
      for (const token of seeded.tokens) {
        const res = await fetch(`${herald.url}/api/v1/notifications?limit=40`, { headers: { authorization: `Bearer ${token}` } });
        page = await res.text();
        if ((JSON.parse(page) as unknown[]).length === 40) break;
      }
      fs.writeFileSync(baselineBody, page);
      baseline = await startProcess(
        ['--import', 'tsx', path.join(ROOT, 'bench/baseline-server.ts')],
        { BASELINE_BODY_FILE: baselineBody },
        '/healthz',
      );
      targets.unshift(['baseline', baseline.url, '/page', undefined]);
    }
    try {
      for (const [label, url, p, tokens] of targets) {
        const name = label === 'baseline' ? label : `${label} (${engine})`;
        // A second of warm-up, measured for nothing: JIT, SQLite's page cache and (for Herald) each token's
        // first page are then behind, so the runs compare steady states. The baseline gets the same.
        await load({ url, path: p, tokens, ...common, seconds: 1 });
        const peak = await measure(`${name} peak`, () => load({ url, path: p, tokens, ...common }), options.repeats);
        const halfRate = await measure(
          `${name} at half rate`,
          () => load({ url, path: p, tokens, ...common, rate: Math.max(1, Math.floor(peak.rps / 2)) }),
          1,
        );
        figures[label] = { peak, halfRate };
      }
    } finally {
      await baseline?.stop();
    }
    const peakRssMb = herald.peakRssMb();
    await herald.stop();
    stopped = true;
    // Every request rendered: what a page costs the first time it is read after a change.
    const uncached = await startHerald({ ...env, HERALD_PAGE_CACHE_MB: '0' });
    try {
      for (const [label, p] of [['v1', '/api/v1/notifications?limit=40'], ['v2', '/api/v2/notifications?limit=40']] as const) {
        const name = `${label} (${engine}, page cache off)`;
        await load({ url: uncached.url, path: p, tokens: seeded.tokens, ...common, seconds: 1 });
        figures[`${label}Uncached`] = { peak: await measure(`${name} peak`, () => load({ url: uncached.url, path: p, tokens: seeded.tokens, ...common }), options.repeats) };
      }
    } finally {
      await uncached.stop();
    }
    const vsBaseline = (label: string) => figures[label].peak.rps / (figures.baseline?.peak.rps ?? NaN);
    return {
      engine,
      notifications: options.notifications,
      accounts: options.accounts,
      ingestEventsPerSecond: seeded.ingestEventsPerSecond,
      ingestSecondsEvery50k: seeded.ingestSecondsEvery50k,
      figures: figures as Record<'baseline' | 'v1' | 'v2', { peak: LoadResult; halfRate: LoadResult }> &
        Record<'v1Uncached' | 'v2Uncached', { peak: LoadResult }>,
      /** NaN without a baseline of this run's own. */
      v1VsBaseline: vsBaseline('v1'),
      v2VsBaseline: vsBaseline('v2'),
      v1UncachedVsBaseline: vsBaseline('v1Uncached'),
      v2UncachedVsBaseline: vsBaseline('v2Uncached'),
      /** While seeding, and over the whole run (seeding and listing, page cache on). */
      ingestPeakRssMb,
      peakRssMb,
    };
  } finally {
    if (!stopped) await herald.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
