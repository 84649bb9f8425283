// The only reader of process.env: settings are read once, checked, and passed down frozen.
import os from 'node:os';
import path from 'node:path';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly adminToken: string | undefined;
  /** When set, GET /metrics needs it as a bearer token. */
  readonly metricsToken: string | undefined;
  readonly vapidPublicKey: string | undefined;
  readonly vapidPrivateKey: string | undefined;
  readonly vapidSubject: string | undefined;
  readonly pushAllowPrivate: readonly string[];
  readonly rateLimits: boolean;
  readonly pushRetryBaseMs: number;
  /** Worker threads that encrypt push messages; 0 encrypts on the main thread. */
  readonly pushThreads: number;
  readonly logLevel: string;
  /** How long a worker's claim holds a delivery; renewed while it works on it (SPEC §16). */
  readonly pushLeaseMs: number;
  /** Simultaneous connections per process (SPEC §15). */
  readonly maxConnections: number;
  /** Rendered listing pages kept per process, in MB (HERALD_PAGE_CACHE_MB; 0: none). */
  readonly pageCacheMb: number;
  /** The host platform's own tokens (SPEC §13); absent sources are off. */
  readonly auth: AuthConfig;
}

export interface AuthConfig {
  /** RFC 9068 JWT access tokens, verified against the host's key set. */
  readonly jwt: { readonly jwksUrl: string; readonly issuer: string; readonly audience: string | undefined } | undefined;
  /** RFC 7662 token introspection with HTTP Basic client authentication. */
  readonly introspection: { readonly url: string; readonly clientId: string; readonly clientSecret: string } | undefined;
  /** The claim that names the account. */
  readonly accountClaim: string;
  readonly cacheSeconds: number;
  readonly recheckSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function readInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function readUrl(env: NodeJS.ProcessEnv, name: string, fallback: string, { base = true } = {}): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL such as https://notifications.example.com, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `must use http or https, got "${url.protocol}"`);
  }
  // Links are built by appending paths onto a base URL: keep no trailing slash there. Endpoints stay as given.
  return base ? url.toString().replace(/\/+$/, '') : url.toString();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = readInt(env, 'PORT', 3000, 0, 65535);
  const host = env.HERALD_HOST || '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const publicUrl = readUrl(env, 'HERALD_PUBLIC_URL', `http://${urlHost}:${port}`);
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// URL (leave it unset to use SQLite in HERALD_DATA_DIR)');
  }
  const rateLimitsRaw = (env.HERALD_RATE_LIMITS || 'on').toLowerCase();
  if (rateLimitsRaw !== 'on' && rateLimitsRaw !== 'off') {
    throw new ConfigError('HERALD_RATE_LIMITS', `must be "on" or "off", got "${env.HERALD_RATE_LIMITS}"`);
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const vapidPublicKey = env.HERALD_VAPID_PUBLIC_KEY || undefined;
  const vapidPrivateKey = env.HERALD_VAPID_PRIVATE_KEY || undefined;
  if ((vapidPublicKey === undefined) !== (vapidPrivateKey === undefined)) {
    throw new ConfigError(
      vapidPublicKey === undefined ? 'HERALD_VAPID_PUBLIC_KEY' : 'HERALD_VAPID_PRIVATE_KEY',
      'set both HERALD_VAPID_PUBLIC_KEY and HERALD_VAPID_PRIVATE_KEY, or neither (then a pair is generated once and kept)',
    );
  }
  const adminToken = env.HERALD_ADMIN_TOKEN || undefined;
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('HERALD_ADMIN_TOKEN', 'must be at least 16 characters long');
  }
  return Object.freeze({
    port,
    host,
    publicUrl,
    dataDir: path.resolve(env.HERALD_DATA_DIR || './data'),
    databaseUrl,
    adminToken,
    metricsToken: env.HERALD_METRICS_TOKEN || undefined,
    vapidPublicKey,
    vapidPrivateKey,
    vapidSubject: env.HERALD_VAPID_SUBJECT || undefined,
    pushAllowPrivate: Object.freeze(
      (env.HERALD_PUSH_ALLOW_PRIVATE || '').split(',').map((s) => s.trim()).filter(Boolean),
    ),
    rateLimits: rateLimitsRaw === 'on',
    pushRetryBaseMs: readInt(env, 'HERALD_PUSH_RETRY_BASE_MS', 10_000, 1, 3_600_000),
    // One core stays with the main thread's HTTP and SQL work.
    pushThreads: readInt(env, 'HERALD_PUSH_THREADS', Math.min(4, os.availableParallelism() - 1), 0, 64),
    logLevel,
    pushLeaseMs: readInt(env, 'HERALD_PUSH_LEASE_MS', 30_000, 1_000, 3_600_000),
    maxConnections: readInt(env, 'HERALD_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    pageCacheMb: readInt(env, 'HERALD_PAGE_CACHE_MB', 32, 0, 65_536),
    auth: readAuthConfig(env),
  });
}

/** SPEC §13: each token source is all there or all absent; half a configuration stops start-up, naming what is missing. */
function readAuthConfig(env: NodeJS.ProcessEnv): AuthConfig {
  const jwksUrl = env.HERALD_AUTH_JWKS_URL ? readUrl(env, 'HERALD_AUTH_JWKS_URL', '', { base: false }) : undefined;
  const issuer = env.HERALD_AUTH_ISSUER || undefined;
  const audience = env.HERALD_AUTH_AUDIENCE || undefined;
  if (jwksUrl !== undefined && issuer === undefined) {
    throw new ConfigError('HERALD_AUTH_ISSUER', 'is required with HERALD_AUTH_JWKS_URL: set it to the "iss" your authorization server writes into its access tokens');
  }
  if (jwksUrl === undefined && (issuer !== undefined || audience !== undefined)) {
    throw new ConfigError('HERALD_AUTH_JWKS_URL', `is required with ${issuer !== undefined ? 'HERALD_AUTH_ISSUER' : 'HERALD_AUTH_AUDIENCE'}: set it to your authorization server's JWKS URL, or unset both`);
  }
  const introspectionUrl = env.HERALD_AUTH_INTROSPECTION_URL ? readUrl(env, 'HERALD_AUTH_INTROSPECTION_URL', '', { base: false }) : undefined;
  const clientId = env.HERALD_AUTH_CLIENT_ID || undefined;
  const clientSecret = env.HERALD_AUTH_CLIENT_SECRET || undefined;
  if (introspectionUrl !== undefined) {
    const missing = clientId === undefined ? 'HERALD_AUTH_CLIENT_ID' : clientSecret === undefined ? 'HERALD_AUTH_CLIENT_SECRET' : undefined;
    if (missing) throw new ConfigError(missing, 'is required with HERALD_AUTH_INTROSPECTION_URL: Herald authenticates to the introspection endpoint with HTTP Basic (client id and secret)');
  } else if (clientId !== undefined || clientSecret !== undefined) {
    throw new ConfigError('HERALD_AUTH_INTROSPECTION_URL', 'is required with HERALD_AUTH_CLIENT_ID and HERALD_AUTH_CLIENT_SECRET: set it to your authorization server\'s RFC 7662 endpoint, or unset them');
  }
  const accountClaim = env.HERALD_AUTH_ACCOUNT_CLAIM || 'sub';
  return Object.freeze({
    jwt: jwksUrl === undefined ? undefined : Object.freeze({ jwksUrl, issuer: issuer!, audience }),
    introspection:
      introspectionUrl === undefined ? undefined : Object.freeze({ url: introspectionUrl, clientId: clientId!, clientSecret: clientSecret! }),
    accountClaim,
    cacheSeconds: readInt(env, 'HERALD_AUTH_CACHE_SECONDS', 60, 0, 86_400),
    recheckSeconds: readInt(env, 'HERALD_AUTH_RECHECK_SECONDS', 3600, 0, 30 * 86_400),
  });
}
