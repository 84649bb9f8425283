// Bearer tokens, scopes and rate limits for the client API (SPEC §1.1, §1.7). Routes declare what they
// accept in `config.scopes`; this hook enforces it before any handler runs, and before the body is read:
// a request whose body is then refused (bad JSON, too large) is still counted and carries the limit headers.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HeraldError } from '../domain/errors.js';
import type { TokenResolver } from '../auth/token-resolver.js';
import { bucketsFor, RateLimiter, type RateLimits, type SharedWindows } from './rate-limit.js';

export const READ_NOTIFICATIONS = ['read', 'read:notifications'] as const;
export const WRITE_NOTIFICATIONS = ['write', 'write:notifications'] as const;
export const PUSH = ['push'] as const;

export interface Auth {
  readonly tokenId: number;
  readonly accountId: string;
  readonly scopes: readonly string[];
  /** The bearer token as sent: push subscriptions keep it for the payload (SPEC §8.5). */
  readonly plainToken: string;
  /** The account's listing-page version, when the route asked for it with the token (`config.pageVersion`). */
  readonly pageVersion?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scopes of which the token must hold one; absent means the route is public. */
    scopes?: readonly string[];
    /** Public routes may still read a token when one is sent. */
    optionalAuth?: boolean;
    /** Read the caller's listing-page version with the token (routes served from the page cache). */
    pageVersion?: boolean;
  }
  interface FastifyRequest {
    auth?: Auth;
  }
}

/** `read` covers every `read:*` and `write` every `write:*`; `push` stands alone (SPEC §1.1). */
export function hasAnyScope(held: readonly string[], accepted: readonly string[]): boolean {
  return accepted.some((wanted) =>
    held.some((scope) => scope === wanted || ((scope === 'read' || scope === 'write') && wanted.startsWith(`${scope}:`))),
  );
}

export const bearerToken = (request: FastifyRequest): string | undefined => bearerFromHeader(request.headers.authorization);

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerFromHeader(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/**
 * A check that the request carries `Bearer <secret>`, comparing equal-length digests in constant time so
 * the secret's length and prefix leak nothing. For the operator's tokens (admin API, metrics).
 */
export function bearerCheck(secret: string): (request: FastifyRequest) => boolean {
  const expected = createHash('sha256').update(secret).digest();
  return (request) => {
    const given = bearerToken(request);
    return given !== undefined && timingSafeEqual(createHash('sha256').update(given).digest(), expected);
  };
}

const PAGINATION_KEYS = ['max_id', 'since_id', 'min_id'];

export function registerClientAuth(
  app: FastifyInstance,
  deps: { tokens: TokenResolver; now: () => number; rateLimits: RateLimits | null; sharedWindows?: SharedWindows },
): void {
  const limiter = new RateLimiter(deps.sharedWindows);
  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    const scopes = config.scopes;
    const plain = bearerToken(request);
    // SPEC §15: authentication comes first, before anything else about the request is judged.
    // A public route still answers while the token source is down: its token is then simply not read.
    const token =
      plain === undefined ? undefined
      : scopes ? await deps.tokens.resolve(plain, { withPageVersion: config.pageVersion })
      : config.optionalAuth ? await deps.tokens.resolve(plain).catch(() => undefined)
      : undefined;
    if (deps.rateLimits) {
      const query = (request.query ?? {}) as Record<string, unknown>;
      const decision = limiter.consume(
        bucketsFor(
          {
            tokenId: token?.id,
            accountId: token?.account_id,
            ip: request.ip,
            paginated: PAGINATION_KEYS.some((k) => query[k] !== undefined),
          },
          deps.rateLimits,
        ),
        deps.now(),
      );
      reply.header('X-RateLimit-Limit', String(decision.limit));
      reply.header('X-RateLimit-Remaining', String(decision.remaining));
      reply.header('X-RateLimit-Reset', new Date(decision.resetAtMs).toISOString());
      if (!decision.allowed) throw new HeraldError('ERR_RATE_LIMITED', 'Too many requests');
    }
    if (!scopes) {
      if (token?.account_id) request.auth = toAuth(token, plain!);
      return;
    }
    request.auth = authorize(token, plain, scopes);
  });
}

/** Checks a looked-up token against the scopes a route accepts (SPEC §1.1's 401, 403 and 422). */
export function authorize(
  token: AuthToken | undefined,
  plain: string | undefined,
  scopes: readonly string[],
): Auth {
  if (!token || plain === undefined) throw new HeraldError('ERR_TOKEN_INVALID', 'The access token is invalid');
  if (!hasAnyScope(token.scopes.split(' '), scopes)) {
    throw new HeraldError('ERR_SCOPE', 'This action is outside the authorized scopes');
  }
  if (!token.account_id) throw new HeraldError('ERR_USER_REQUIRED', 'This method requires an authenticated user');
  return toAuth(token, plain);
}

type AuthToken = { id: number; account_id: string | null; scopes: string; pageVersion?: string };

function toAuth(token: AuthToken, plainToken: string): Auth {
  return { tokenId: token.id, accountId: token.account_id!, scopes: token.scopes.split(' '), plainToken, pageVersion: token.pageVersion };
}

/** The authenticated caller of a route that declared scopes. */
export function callerOf(request: FastifyRequest): Auth {
  if (!request.auth) throw new HeraldError('ERR_TOKEN_INVALID', 'The access token is invalid');
  return request.auth;
}
