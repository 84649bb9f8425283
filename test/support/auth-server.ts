// A real OAuth 2 authorization server (oidc-provider) on loopback, for tests of Herald's token validation.
// Tokens come out of the provider's own /token endpoint after a genuine authorization_code + PKCE grant that
// this helper drives headlessly: it follows the redirects by hand and carries the provider's cookies, and the
// login/consent interaction is answered by a tiny route of our own (provider.interactionDetails/Finished).
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import { freePort } from './free-port.js';

export interface AuthServer {
  issuer: string;
  jwksUrl: string;
  introspectionUrl: string;
  /** Confidential client (client_secret_basic) allowed to introspect and revoke any token: Herald's own. */
  clientId: string;
  clientSecret: string;
  /** Resource indicator and `aud` of every access token issued. */
  audience: string;
  issueToken(options: { sub: string; scope: string; format: 'opaque' | 'jwt'; ttlSeconds?: number }): Promise<string>;
  revoke(token: string): Promise<void>;
  introspectionCalls(): number;
  close(): Promise<void>;
}

// oidc-provider ships no type declarations; the little of it we touch is typed here. Importing through a
// string-typed specifier keeps `tsc` from demanding a declaration file for the module.
interface OidcGrant {
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
interface OidcProvider {
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<{ params: Record<string, string | undefined> }>;
  interactionFinished(req: http.IncomingMessage, res: http.ServerResponse, result: object): Promise<void>;
  Grant: new (init: { accountId: string; clientId: string }) => OidcGrant;
}
type ProviderClass = new (issuer: string, config: object) => OidcProvider;

const OIDC_PROVIDER: string = 'oidc-provider';
const AUDIENCE = 'https://herald.test';
// Public (PKCE) clients that obtain the tokens; which one runs the grant decides the token format.
const CLIENTS = { opaque: 'app-opaque', jwt: 'app-jwt' } as const;
const REDIRECT_URI = 'http://127.0.0.1/callback'; // never contacted: the helper reads the code off the Location
const ROUTES = { authorization: '/auth', token: '/token', jwks: '/jwks', introspection: '/token/introspection', revocation: '/token/revocation' };

// Unbounded in-memory storage: the built-in adapter is an LRU of 1,000 entries (about 150 grants, which a
// load test could overflow, evicting live tokens) and warns on every start.
type Payload = Record<string, unknown> & { grantId?: string; uid?: string };
function memoryAdapter() {
  const store = new Map<string, { payload: Payload; expiresAt: number }>();
  const sessionIdByUid = new Map<string, string>(); // for Session.findByUid, run on every introspection
  const live = (key: string) => {
    const entry = store.get(key);
    if (entry && entry.expiresAt <= Date.now()) store.delete(key);
    return store.get(key)?.payload;
  };
  return class {
    constructor(private readonly model: string) {}
    async upsert(id: string, payload: Payload, expiresIn?: number) {
      store.set(`${this.model}:${id}`, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
      if (this.model === 'Session' && payload.uid) sessionIdByUid.set(payload.uid, id);
    }
    async find(id: string) { return live(`${this.model}:${id}`); }
    async findByUid(uid: string) { return live(`${this.model}:${sessionIdByUid.get(uid)}`); }
    async consume(id: string) {
      const payload = live(`${this.model}:${id}`);
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) { store.delete(`${this.model}:${id}`); }
    async revokeByGrantId(grantId: string) {
      for (const [key, { payload }] of store) if (payload.grantId === grantId) store.delete(key);
    }
  };
}

async function importProvider(): Promise<ProviderClass> {
  // oidc-provider 9 warns on import that it wants Node 22; it works on Node 20, so drop just that line.
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('Unsupported runtime')) warn(...args);
  };
  try {
    return ((await import(OIDC_PROVIDER)) as { Provider: ProviderClass }).Provider;
  } finally {
    console.warn = warn;
  }
}

export async function startAuthServer(): Promise<AuthServer> {
  const Provider = await importProvider();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'herald';
  const clientSecret = randomBytes(24).toString('base64url');

  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-es256', alg: 'ES256', use: 'sig' };

  // The resource server only grants scopes it lists, so every scope a test asks for is added here first:
  // any space-free string (Mastodon's 'read', 'read:notifications', 'admin:write', …) is thereby accepted.
  const knownScopes = new Set(['read', 'write', 'follow', 'push', 'profile']);
  // ttlSeconds of each issueToken call, keyed by the grant our interaction route creates for it.
  const ttlByGrant = new Map<string, number>();
  let introspections = 0;
  let lastServerError: unknown;

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(),
    clients: [
      { client_id: clientId, client_secret: clientSecret, token_endpoint_auth_method: 'client_secret_basic', grant_types: [], response_types: [], redirect_uris: [] },
      ...Object.values(CLIENTS).map((id) => ({
        client_id: id, token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [REDIRECT_URI],
      })),
    ],
    clientDefaults: { id_token_signed_response_alg: 'ES256' }, // our only key is ES256 (the default is RS256)
    jwks: { keys: [signingKey] },
    routes: ROUTES,
    // Carries issueToken's ttlSeconds through the authorization request to the interaction route.
    extraParams: ['ttl'],
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true, allowedPolicy: () => true },
      // Herald's client may revoke tokens of the app clients (the default lets only the owner revoke).
      revocation: { enabled: true, allowedPolicy: () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true, // the token request need not repeat `resource`
        getResourceServerInfo: (_ctx: unknown, resource: string, client: { clientId: string }) => {
          if (resource !== AUDIENCE) throw new Error(`unknown resource ${resource}`);
          const jwt = client.clientId === CLIENTS.jwt;
          return {
            scope: [...knownScopes].join(' '),
            audience: AUDIENCE,
            accessTokenFormat: jwt ? 'jwt' : 'opaque',
            ...(jwt ? { jwt: { sign: { alg: 'ES256' } } } : {}),
          };
        },
      },
    },
    // Explicit values also keep oidc-provider from printing "you SHOULD change" notices for its defaults.
    ttl: {
      AccessToken: (_ctx: unknown, token: { grantId?: string }) => ttlByGrant.get(token.grantId ?? '') ?? 3600,
      AuthorizationCode: 60,
      Grant: 86_400,
      Interaction: 600,
      Session: 86_400,
      IdToken: 3600,
    },
    clientBasedCORS: () => false,
    renderError: (ctx: { body: unknown }, out: object) => { ctx.body = out; }, // JSON, not an HTML page
  });
  // Keep failures off the console, but remember the last one for the error issueToken throws.
  provider.on('server_error', (_ctx, err) => { lastServerError = err; });
  provider.on('error', () => {});

  // The interaction: log in as the login_hint account and grant exactly the requested scopes, in one step.
  async function interact(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { params } = await provider.interactionDetails(req, res);
    const accountId = params.login_hint;
    if (!accountId || !params.client_id) throw new Error('interaction without login_hint/client_id');
    const grant = new provider.Grant({ accountId, clientId: params.client_id });
    grant.addResourceScope(params.resource ?? AUDIENCE, params.scope ?? '');
    const grantId = await grant.save();
    if (params.ttl) ttlByGrant.set(grantId, Number(params.ttl));
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } });
  }

  const handle = provider.callback();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path === ROUTES.introspection) introspections += 1;
    if (req.method === 'GET' && path.startsWith('/interaction/')) {
      interact(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });

  const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;

  async function issueToken(options: { sub: string; scope: string; format: 'opaque' | 'jwt'; ttlSeconds?: number }): Promise<string> {
    for (const scope of options.scope.split(' ').filter(Boolean)) knownScopes.add(scope);
    const client = CLIENTS[options.format];
    const verifier = randomBytes(32).toString('base64url');
    const authorize = new URL(ROUTES.authorization, issuer);
    authorize.search = new URLSearchParams({
      client_id: client,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: options.scope,
      resource: AUDIENCE,
      state: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      login_hint: options.sub,
      ...(options.ttlSeconds !== undefined ? { ttl: String(options.ttlSeconds) } : {}),
    }).toString();

    // Follow authorize -> /interaction/:uid -> /auth/:uid (resume) -> redirect_uri?code=… by hand. A cookie
    // jar of name -> value suffices: each grant has its own, and every request goes to the same origin.
    const jar = new Map<string, string>();
    let url = authorize.href;
    let code: string | null = null;
    for (let hop = 0; hop < 10 && code === null; hop += 1) {
      const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
      for (const line of res.headers.getSetCookie()) {
        const [pair = '', ...attrs] = line.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
        if (expired) jar.delete(name);
        else jar.set(name, pair.slice(eq + 1).trim());
      }
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) {
        throw new Error(`authorization flow stopped at ${url}: ${res.status} ${await res.text()} ${String(lastServerError ?? '')}`);
      }
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.href.startsWith(REDIRECT_URI)) {
        const error = next.searchParams.get('error');
        if (error) throw new Error(`authorization failed: ${error} ${next.searchParams.get('error_description') ?? ''}`);
        code = next.searchParams.get('code');
      }
      url = next.href;
    }
    if (!code) throw new Error('authorization flow did not reach the redirect_uri');

    const res = await fetch(new URL(ROUTES.token, issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, client_id: client }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!res.ok || !body.access_token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  async function revoke(token: string): Promise<void> {
    const res = await fetch(new URL(ROUTES.revocation, issuer), {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    if (!res.ok) throw new Error(`revocation failed: ${res.status} ${await res.text()}`);
  }

  return {
    issuer,
    jwksUrl: new URL(ROUTES.jwks, issuer).href,
    introspectionUrl: new URL(ROUTES.introspection, issuer).href,
    clientId,
    clientSecret,
    audience: AUDIENCE,
    issueToken,
    revoke,
    introspectionCalls: () => introspections,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // fetch keeps connections alive; don't wait for them to idle out
      }),
  };
}
