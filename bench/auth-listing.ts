// Host-token benchmark (SPEC §13): GET /api/v1/notifications?limit=40 with a JWT and with an introspected
// opaque token, beside Herald's own token for the same accounts on the same Herald in the same run. The goal is
// within 10 % of the own token. The authorization server (oidc-provider) runs in this process; Herald in its own.
//
// Both external kinds are measured on their cached path: every token is used once before the load (its first
// sight verifies it, makes its local row and fills the cache), and HERALD_AUTH_CACHE_SECONDS is raised above
// the length of the run so no answer runs out in the middle of a measurement (with the default 60 s a token
// costs one introspection a minute, which would here be served by this very process while it runs the load).
// The introspection calls made during the load are counted and reported: they should be 0.
import { measure, medianOf, storeOf } from './api-listing.js';
import { load, type LoadResult } from './load.js';
import { seed } from './seed.js';
import { pool, progress, startHerald } from './support.js';
import { startAuthServer } from '../test/support/auth-server.js';

export interface AuthOptions {
  readonly accounts: number;
  readonly notifications: number;
  /** Tokens of each kind, for the same accounts in the same order. */
  readonly tokens: number;
  readonly seconds: number;
  readonly repeats: number;
  readonly connections: number;
}

const PATH = '/api/v1/notifications?limit=40';
const SCOPES = 'read write';
const CACHE_SECONDS = 3600;
const KINDS = ['own', 'jwt', 'introspection'] as const;
type Kind = (typeof KINDS)[number];

export async function benchAuth(options: AuthOptions) {
  progress(`auth: ${options.notifications} notifications over ${options.accounts} accounts, ${options.tokens} tokens of each kind`);
  const auth = await startAuthServer();
  try {
    const herald = await startHerald({
      HERALD_AUTH_JWKS_URL: auth.jwksUrl,
      HERALD_AUTH_ISSUER: auth.issuer,
      HERALD_AUTH_AUDIENCE: auth.audience,
      HERALD_AUTH_INTROSPECTION_URL: auth.introspectionUrl,
      HERALD_AUTH_CLIENT_ID: auth.clientId,
      HERALD_AUTH_CLIENT_SECRET: auth.clientSecret,
      HERALD_AUTH_CACHE_SECONDS: String(CACHE_SECONDS),
    });
    try {
      const seeded = await seed(herald.url, storeOf(options, options.tokens));
      const issuedAt = performance.now();
      const tokens: Record<Kind, string[]> = { own: seeded.tokens, jwt: [], introspection: [] };
      await pool([...seeded.tokenAccounts.keys()], 8, async (i) => {
        const sub = seeded.tokenAccounts[i];
        tokens.jwt[i] = await auth.issueToken({ sub, scope: SCOPES, format: 'jwt' });
        tokens.introspection[i] = await auth.issueToken({ sub, scope: SCOPES, format: 'opaque' });
      });
      progress(`issued ${2 * options.tokens} host tokens in ${((performance.now() - issuedAt) / 1000).toFixed(1)} s`);

      // First sight of every host token (verification, local row, cache), checked to answer the very page
      // the own token of that account answers, so every kind lists the same thing.
      const firstSightAt = performance.now();
      await pool([...seeded.tokens.keys()], 4, async (i) => {
        const pages = await Promise.all(KINDS.map((kind) => listing(herald.url, tokens[kind][i])));
        for (const [k, page] of pages.entries()) {
          if (page.status !== 200 || page.body !== pages[0].body) {
            throw new Error(`${KINDS[k]} token of account ${seeded.tokenAccounts[i]}: ${page.status} ${page.body.slice(0, 200)}, not the own token's page`);
          }
        }
      });
      const firstSightSeconds = (performance.now() - firstSightAt) / 1000;
      const pageSizes = await Promise.all(seeded.tokens.slice(0, 20).map(async (t) => (JSON.parse((await listing(herald.url, t)).body) as unknown[]).length));
      progress(`every host token answers its account's page (first sight of all in ${firstSightSeconds.toFixed(1)} s); pages of ${pageSizes.join(', ')}…`);

      const common = { url: herald.url, path: PATH, connections: options.connections };
      const introspectionsBefore = auth.introspectionCalls();
      // Warm the server's code paths for every kind, so the first measured kind is not the one paying for it.
      for (const kind of KINDS) await load({ ...common, tokens: tokens[kind], seconds: 1 });

      // Peak: the kinds interleaved, in a rotating order, so each ratio comes from runs side by side.
      const runs: Record<Kind, LoadResult[]> = { own: [], jwt: [], introspection: [] };
      for (let r = 0; r < options.repeats; r++) {
        for (let k = 0; k < KINDS.length; k++) {
          const kind = KINDS[(k + r) % KINDS.length];
          const result = await load({ ...common, tokens: tokens[kind], seconds: options.seconds });
          runs[kind].push(result);
          progress(`  ${kind} token peak run ${r + 1}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms`);
        }
      }
      const peak = { own: medianOf(runs.own), jwt: medianOf(runs.jwt), introspection: medianOf(runs.introspection) };
      // Latency at one fixed rate for all kinds: half the own token's peak.
      const rate = Math.max(1, Math.floor(peak.own.rps / 2));
      const halfRate = {} as Record<Kind, LoadResult>;
      for (const kind of KINDS) {
        halfRate[kind] = await measure(`${kind} token at ${rate} req/s`, () => load({ ...common, tokens: tokens[kind], seconds: options.seconds, rate }), 1);
      }
      const introspectionCallsDuringLoad = auth.introspectionCalls() - introspectionsBefore;
      const failures = KINDS.reduce((n, kind) => n + peak[kind].errors + peak[kind].non2xx + halfRate[kind].errors + halfRate[kind].non2xx, 0);
      if (failures > 0) progress(`warning: ${failures} requests failed or were not 2xx; the figures are not to be trusted`);
      return {
        notifications: options.notifications,
        accounts: options.accounts,
        tokensPerKind: options.tokens,
        cacheSeconds: CACHE_SECONDS,
        /** Seconds for the first request of every host token, both kinds (verification, row, cache fill). */
        firstSightSeconds,
        figures: { peak, halfRate: { rate, ...halfRate } },
        /** Every peak run's rate, in the order run within each repeat, to judge the noise beside the ratios. */
        peakRuns: { own: runs.own.map((x) => x.rps), jwt: runs.jwt.map((x) => x.rps), introspection: runs.introspection.map((x) => x.rps) },
        jwtVsOwn: peak.jwt.rps / peak.own.rps,
        introspectionVsOwn: peak.introspection.rps / peak.own.rps,
        introspectionCallsDuringLoad,
        failures,
        peakRssMb: herald.peakRssMb(),
      };
    } finally {
      await herald.stop();
    }
  } finally {
    await auth.close();
  }
}

async function listing(base: string, token: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}${PATH}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.text() };
}
