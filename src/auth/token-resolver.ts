// Who a bearer is (SPEC §13): Herald's own and imported tokens by their stored hash; otherwise a JWT verified
// against the host's key set, or the host's introspection endpoint. An external token gets a local row on
// first sight so subscriptions, streams and rate limits bind to it as to an own token.
//
// Every request reads the token's row first (one indexed query), so a revocation through Herald holds at
// once in every process; the per-process cache only spares the external source's work.
import { LRUCache } from 'lru-cache';
import { Counter, type Registry } from 'prom-client';
import type { AuthConfig } from '../config.js';
import type { NotificationBus } from '../services/notification-bus.js';
import type { Db, TokenSource } from '../store/schema.js';
import { confirmExternalToken, findTokenByHash, findTokenByHashWithPageVersion, findTokenById, findTokenCutoff, hashToken, isExternalSource, type TokenRow } from '../store/tokens.js';
import { createIntrospectionClient, type IntrospectionClient } from './introspection-client.js';
import { createJwtVerifier, looksLikeJws, JWT_LEEWAY_SECONDS, type JwtVerifier } from './jwt-verifier.js';
import { AuthUnavailable, inactive, type ActiveToken, type TokenVerdict } from './token-claims.js';

/** SPEC §13: at most this many cached answers per process, least recently used first out. */
const CACHE_ENTRIES = 100_000;
/** SPEC §13: an inactive answer is believed this long. */
const INACTIVE_CACHE_MS = 10_000;

/** A bearer's live row; with the account's listing-page version when asked for and read alongside. */
export type ResolvedToken = TokenRow & { readonly pageVersion?: string };

export interface TokenResolver {
  /**
   * The live local row of a bearer, or undefined when no enabled source accepts it (401). Throws
   * AuthUnavailable when the source that must decide cannot answer and nothing is cached (503).
   * `withPageVersion`: read the account's page version in the same statement as the row (a page served
   * from the page cache needs nothing else); absent when the row came from elsewhere (a first sight).
   */
  resolve(plain: string, options?: { withPageVersion?: boolean }): Promise<ResolvedToken | undefined>;
  /**
   * Whether an external token lacks a current active answer: none cached, run out, or inactive (the stream
   * sweep asks again for those).
   */
  needsCheck(plain: string): boolean;
  /** Fetches the JWT key set now (at start); undefined without JWT verification. */
  preload?(): Promise<void>;
  /** Re-asks the introspection endpoint now (push re-check, SPEC §13); undefined without one. */
  introspect?(plain: string): Promise<TokenVerdict>;
  close(): Promise<void>;
}

export interface TokenResolverDeps {
  readonly db: Db;
  readonly now: () => number;
  readonly auth: AuthConfig;
  readonly bus?: NotificationBus;
  readonly metrics?: Registry;
  /** Sources given directly (tests); built from `auth` when absent. */
  readonly jwt?: JwtVerifier;
  readonly introspection?: IntrospectionClient;
  /** Told when a source cannot answer (never with the token). */
  readonly onUnavailable?: (error: AuthUnavailable) => void;
}

interface CachedVerdict {
  readonly until: number;
  /** The local row's id while active; undefined for an inactive answer. */
  readonly tokenId?: number;
}

type Outcome = 'valid' | 'invalid' | 'revoked' | 'unavailable';

export function createTokenResolver(deps: TokenResolverDeps): TokenResolver {
  const { db, now, auth } = deps;
  const jwt = deps.jwt ?? (auth.jwt ? createJwtVerifier({ ...auth.jwt, accountClaim: auth.accountClaim }, now) : undefined);
  const introspection =
    deps.introspection ?? (auth.introspection ? createIntrospectionClient({ ...auth.introspection, accountClaim: auth.accountClaim }, now) : undefined);
  const cacheMs = auth.cacheSeconds * 1000;
  const cache = new LRUCache<string, CachedVerdict>({ max: CACHE_ENTRIES });
  const inFlight = new Map<string, Promise<TokenRow | undefined>>();
  const checks = deps.metrics
    ? new Counter({
        name: 'herald_token_checks_total',
        help: 'Bearer tokens checked, by source (own, imported, jwt, introspection, none) and outcome',
        labelNames: ['source', 'outcome'] as const,
        registers: [deps.metrics],
      })
    : undefined;
  const count = (source: TokenSource | 'none', outcome: Outcome): void => checks?.inc({ source, outcome });

  // A revocation anywhere drops this process's cached answers for those tokens (SPEC §13).
  const forget = new Map<number, string>();
  const stopListening = deps.bus?.onSignal((signal) => {
    if (signal.kind !== 'tokens_revoked') return;
    for (const id of signal.tokenIds) {
      const hash = forget.get(id);
      if (hash !== undefined) cache.delete(hash);
      forget.delete(id);
    }
  });

  /** Which source judges a token Herald holds no live own row for. */
  const sourceFor = (plain: string): 'jwt' | 'introspection' | undefined =>
    jwt && looksLikeJws(plain) ? 'jwt' : introspection ? 'introspection' : undefined;

  async function verify(plain: string, hash: string, source: 'jwt' | 'introspection'): Promise<TokenRow | undefined> {
    let verdict: TokenVerdict;
    try {
      verdict = source === 'jwt' ? await jwt!.verify(plain) : await introspection!.introspect(plain);
    } catch (error) {
      count(source, 'unavailable');
      const unavailable = error instanceof AuthUnavailable ? error : new AuthUnavailable(String(error), { cause: error });
      deps.onUnavailable?.(unavailable);
      throw unavailable;
    }
    const at = now();
    if (verdict.active && (await isBeforeCutoff(verdict))) verdict = inactive('issued before the account was logged out everywhere');
    if (!verdict.active) {
      cache.set(hash, { until: at + INACTIVE_CACHE_MS });
      count(source, 'invalid');
      return undefined;
    }
    const row = await confirmExternalToken(db, {
      token_hash: hash,
      account_id: verdict.accountId,
      scopes: verdict.scopes,
      source,
      expires_at: verdict.expiresAt,
      now: at,
    });
    if (!row) {
      count(source, 'revoked');
      return undefined;
    }
    // Believed until the cache time runs out or the token expires, whichever is first.
    const expiry = verdict.expiresAt === null ? Infinity : verdict.expiresAt + (source === 'jwt' ? JWT_LEEWAY_SECONDS * 1000 : 0);
    cache.set(hash, { until: Math.min(at + cacheMs, expiry), tokenId: row.id });
    forget.set(row.id, hash);
    count(source, 'valid');
    return row;
  }

  async function isBeforeCutoff(token: ActiveToken): Promise<boolean> {
    if (token.accountId === null) return false;
    const cutoff = await findTokenCutoff(db, token.accountId);
    // A token that does not say when it was issued cannot be judged by the cut-off; its row, if it had
    // one before, was revoked with the others.
    return cutoff !== undefined && token.issuedAt !== null && token.issuedAt <= cutoff;
  }

  return {
    async resolve(plain, options) {
      const hash = hashToken(plain);
      const row: ResolvedToken | undefined = await (options?.withPageVersion ? findTokenByHashWithPageVersion : findTokenByHash)(db, hash);
      if (row && row.revoked_at !== null) {
        count(row.source, 'revoked');
        return undefined;
      }
      if (row && !isExternalSource(row.source)) {
        count(row.source, 'valid');
        return row;
      }
      const source = sourceFor(plain);
      if (source === undefined) {
        count('none', 'invalid');
        return undefined;
      }
      const cached = cache.get(hash);
      if (cached !== undefined && cached.until > now()) {
        if (cached.tokenId === undefined) {
          count(source, 'invalid');
          return undefined;
        }
        // The row may have been read just before a concurrent check created it; a row since pruned or
        // revoked is asked about again.
        const current = row?.id === cached.tokenId ? row : await findTokenById(db, cached.tokenId);
        if (current && current.revoked_at === null && current.token_hash === hash) {
          count(source, 'valid');
          return current;
        }
      }
      // Concurrent checks of one token share one verification (SPEC §13).
      let pending = inFlight.get(hash);
      if (!pending) {
        pending = verify(plain, hash, source).finally(() => inFlight.delete(hash));
        inFlight.set(hash, pending);
      }
      return pending;
    },
    needsCheck(plain) {
      const cached = cache.peek(hashToken(plain));
      return cached === undefined || cached.tokenId === undefined || cached.until <= now();
    },
    preload: jwt ? () => jwt.preload() : undefined,
    introspect: introspection ? (plain) => introspection.introspect(plain) : undefined,
    async close() {
      stopListening?.();
      await introspection?.close();
    },
  };
}
