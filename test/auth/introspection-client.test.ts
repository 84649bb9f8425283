// SPEC §13's token introspection (RFC 7662): the pure reading of an answer, the HTTP request Herald makes, and
// what a client of Herald sees when the endpoint is down, hangs or talks nonsense (503, never 500, never 200).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIntrospectionClient, judgeIntrospection, type IntrospectionClient } from '../../src/auth/introspection-client.js';
import { AuthUnavailable, type TokenVerdict } from '../../src/auth/token-claims.js';
import { freePort } from '../support/free-port.js';
import { createTestApp, ENGINES, START_TIME, type TestApp } from '../support/test-app.js';

const NOW = START_TIME;
const NOW_S = NOW / 1000;

describe('judgeIntrospection', () => {
  const json = (value: unknown): string => JSON.stringify(value);

  it.each<[string, number, string, string, TokenVerdict]>([
    [
      'active with scope, sub, exp and iat',
      200,
      json({ active: true, scope: 'read write push', sub: '42', exp: NOW_S + 300, iat: NOW_S - 10, client_id: 'app' }),
      'sub',
      { active: true, accountId: '42', scopes: 'read write push', expiresAt: (NOW_S + 300) * 1000, issuedAt: (NOW_S - 10) * 1000 },
    ],
    [
      'active without exp, iat or scope',
      200,
      json({ active: true, sub: '42' }),
      'sub',
      { active: true, accountId: '42', scopes: '', expiresAt: null, issuedAt: null },
    ],
    [
      'scopes normalised to single spaces',
      200,
      json({ active: true, sub: '42', scope: '  read\t write  ' }),
      'sub',
      { active: true, accountId: '42', scopes: 'read write', expiresAt: null, issuedAt: null },
    ],
    [
      'the account from a configured claim',
      200,
      json({ active: true, sub: 'user@host', account_id: '7', scope: 'read' }),
      'account_id',
      { active: true, accountId: '7', scopes: 'read', expiresAt: null, issuedAt: null },
    ],
    [
      'a numeric account id becomes a string',
      200,
      json({ active: true, account_id: 109_876_543_210, scope: 'read' }),
      'account_id',
      { active: true, accountId: '109876543210', scopes: 'read', expiresAt: null, issuedAt: null },
    ],
    [
      'no account claim: an app token (accountId null)',
      200,
      json({ active: true, sub: '42', scope: 'read' }),
      'account_id',
      { active: true, accountId: null, scopes: 'read', expiresAt: null, issuedAt: null },
    ],
    [
      'an empty account claim: accountId null',
      200,
      json({ active: true, sub: '', scope: 'read' }),
      'sub',
      { active: true, accountId: null, scopes: 'read', expiresAt: null, issuedAt: null },
    ],
    [
      'exp one second ahead is still active',
      200,
      json({ active: true, sub: '42', exp: NOW_S + 1 }),
      'sub',
      { active: true, accountId: '42', scopes: '', expiresAt: NOW + 1000, issuedAt: null },
    ],
  ])('%s', (_name, status, body, claim, expected) => {
    expect(judgeIntrospection(status, body, claim, NOW)).toEqual(expected);
  });

  it.each<[string, number, string]>([
    ['active false', 200, json({ active: false })],
    ['active false with other fields', 200, json({ active: false, sub: '42', scope: 'read', exp: NOW_S + 300 })],
    ['active true with exp in the past', 200, json({ active: true, sub: '42', scope: 'read', exp: NOW_S - 1 })],
    ['active true with exp exactly now', 200, json({ active: true, sub: '42', scope: 'read', exp: NOW_S })],
    ['400 unsupported_token_type', 400, json({ error: 'unsupported_token_type' })],
    ['400 invalid_request with a description', 400, json({ error: 'invalid_request', error_description: 'token missing' })],
    ['401 invalid_token', 401, json({ error: 'invalid_token' })],
  ])('inactive: %s', (_name, status, body) => {
    const verdict = judgeIntrospection(status, body, 'sub', NOW);
    expect(verdict.active).toBe(false);
    expect(verdict).toHaveProperty('reason');
  });

  it.each<[string, number, string]>([
    ['500 with a text body', 500, 'Internal Server Error'],
    ['500 with an RFC 7662 body', 500, json({ active: true, sub: '42' })],
    ['502 with an OAuth error body', 502, json({ error: 'server_error' })],
    ['503 empty', 503, ''],
    ['200 HTML', 200, '<!doctype html><html><body>Sign in</body></html>'],
    ['200 empty body', 200, ''],
    ['200 JSON without active', 200, json({ sub: '42', scope: 'read' })],
    ['200 JSON with a string active', 200, json({ active: 'true', sub: '42' })],
    ['200 JSON with a numeric active', 200, json({ active: 1, sub: '42' })],
    ['200 JSON null', 200, 'null'],
    ['200 JSON array', 200, json([{ active: true }])],
    ['200 JSON string', 200, json('active')],
    ['200 truncated JSON', 200, '{"active": tr'],
    ['404 HTML', 404, '<html>Not Found</html>'],
    ['302 redirect to a login page', 302, ''],
    // Herald's own fault, not the token's: no user is logged out, no subscription deleted for it.
    ['401 invalid_client (a rotated client secret)', 401, json({ error: 'invalid_client', error_description: 'client authentication failed' })],
    ['403 insufficient_scope', 403, json({ error: 'insufficient_scope' })],
    ['429 with an OAuth error body', 429, json({ error: 'slow_down' })],
  ])('throws AuthUnavailable: %s', (_name, status, body) => {
    expect(() => judgeIntrospection(status, body, 'sub', NOW)).toThrow(AuthUnavailable);
  });
});

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Answer = { status: number; body: string; contentType?: string } | 'hang' | 'drop';

interface ScriptedServer {
  readonly url: string;
  readonly received: Received[];
  /** How the next requests are answered; `hang` never answers, `drop` closes the connection unanswered. */
  script: (request: Received) => Answer;
  close(): Promise<void>;
}

const activeAnswer = (extra: Record<string, unknown> = {}): Answer => ({
  status: 200,
  body: JSON.stringify({ active: true, sub: '1', scope: 'read write push', client_id: 'app', exp: NOW_S + 3600, iat: NOW_S - 10, ...extra }),
});

async function startScriptedServer(path = '/oauth/introspect'): Promise<ScriptedServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      state.received.push(request);
      const answer = state.script(request);
      if (answer === 'hang') return;
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const state: ScriptedServer = {
    url: `http://127.0.0.1:${port}${path}`,
    received: [],
    script: () => activeAnswer(),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}

/** Splits a Basic header into its two halves as sent (still form-encoded). */
function basicHalves(header: string | undefined): [string, string] {
  expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
  const decoded = Buffer.from(header!.slice('Basic '.length), 'base64').toString('utf8');
  const parts = decoded.split(':');
  // The separator is the only raw colon: a colon in the id or secret is encoded.
  expect(parts).toHaveLength(2);
  return [parts[0], parts[1]];
}

/** application/x-www-form-urlencoded decoding (RFC 6749 Appendix B): `+` is a space. */
const formDecode = (value: string): string => decodeURIComponent(value.replace(/\+/g, ' '));

describe('createIntrospectionClient over HTTP', () => {
  let server: ScriptedServer;
  let clients: IntrospectionClient[];
  const client = (settings: { url?: string; clientId?: string; clientSecret?: string; accountClaim?: string } = {}): IntrospectionClient => {
    const made = createIntrospectionClient(
      {
        url: settings.url ?? server.url,
        clientId: settings.clientId ?? 'herald',
        clientSecret: settings.clientSecret ?? 's3cret',
        accountClaim: settings.accountClaim ?? 'sub',
      },
      () => NOW,
    );
    clients.push(made);
    return made;
  };

  beforeEach(async () => {
    server = await startScriptedServer();
    clients = [];
  });
  afterEach(async () => {
    await server.close();
    await Promise.all(clients.map((c) => c.close()));
  });

  it('POSTs the token as a form with token_type_hint and HTTP Basic client authentication', async () => {
    const verdict = await client().introspect('opaque-token-123');
    expect(verdict).toEqual({
      active: true,
      accountId: '1',
      scopes: 'read write push',
      expiresAt: (NOW_S + 3600) * 1000,
      issuedAt: (NOW_S - 10) * 1000,
    });
    expect(server.received).toHaveLength(1);
    const [request] = server.received;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/oauth/introspect');
    expect(request.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded\b/);
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('herald:s3cret').toString('base64')}`);
    const form = new URLSearchParams(request.body);
    expect([...form.keys()].sort()).toEqual(['token', 'token_type_hint']);
    expect(form.get('token')).toBe('opaque-token-123');
    expect(form.get('token_type_hint')).toBe('access_token');
  });

  it('form-encodes a token with reserved characters', async () => {
    const token = 'a+b/c=d&e f%20g;h?i#j';
    await client().introspect(token);
    expect(new URLSearchParams(server.received[0].body).get('token')).toBe(token);
    expect(server.received[0].body).not.toContain('&e f');
  });

  it('form-encodes client id and secret before the Basic encoding (RFC 6749 §2.3.1)', async () => {
    const clientId = 'herald:notifications&co';
    const clientSecret = 'p@ss:w/rd+=%&?#é ü';
    await client({ clientId, clientSecret }).introspect('t');
    const [id, secret] = basicHalves(server.received[0].headers.authorization);
    expect(formDecode(id)).toBe(clientId);
    expect(formDecode(secret)).toBe(clientSecret);
    // Characters that mean something in the encoding are escaped, not sent raw.
    expect(id).toBe('herald%3Anotifications%26co');
    for (const raw of ['@', '/', '+', '=', '&', '?', '#', 'é', 'ü']) expect(secret).not.toContain(raw);
    expect(secret.replace(/%[0-9A-F]{2}/g, '')).toMatch(/^[A-Za-z0-9\-_.!~*'()+]*$/);
  });

  it('keeps the URL as configured, query included', async () => {
    const url = `${server.url}?realm=herald`;
    await client({ url }).introspect('t');
    expect(server.received[0].url).toBe('/oauth/introspect?realm=herald');
  });

  it('reads the answer through judgeIntrospection: inactive, OAuth errors, the account claim', async () => {
    server.script = () => ({ status: 200, body: JSON.stringify({ active: false }) });
    expect((await client().introspect('t1')).active).toBe(false);
    server.script = () => ({ status: 400, body: JSON.stringify({ error: 'unsupported_token_type' }) });
    expect((await client().introspect('t2')).active).toBe(false);
    server.script = () => activeAnswer({ account_id: 77 });
    expect(await client({ accountClaim: 'account_id' }).introspect('t3')).toMatchObject({ active: true, accountId: '77' });
  });

  it('a 500, a non-JSON 200 or a dropped connection throws AuthUnavailable', async () => {
    const c = client();
    server.script = () => ({ status: 500, body: 'oops', contentType: 'text/plain' });
    await expect(c.introspect('t')).rejects.toBeInstanceOf(AuthUnavailable);
    server.script = () => ({ status: 200, body: '<html>login</html>', contentType: 'text/html' });
    await expect(c.introspect('t')).rejects.toBeInstanceOf(AuthUnavailable);
    server.script = () => 'drop';
    await expect(c.introspect('t')).rejects.toBeInstanceOf(AuthUnavailable);
    server.script = () => activeAnswer();
    expect((await c.introspect('t')).active).toBe(true);
  });

  it('nothing listening at the URL throws AuthUnavailable', async () => {
    const port = await freePort();
    const error = await client({ url: `http://127.0.0.1:${port}/introspect` })
      .introspect('secret-token-xyz')
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(AuthUnavailable);
    expect((error as AuthUnavailable).message).toBe('Authentication service unavailable');
    // The token never shows in what is logged.
    expect((error as AuthUnavailable).detail).not.toContain('secret-token-xyz');
  });

  it('a server that never answers throws AuthUnavailable after about 2 s', async () => {
    server.script = () => 'hang';
    const started = performance.now();
    await expect(client().introspect('hung-token')).rejects.toBeInstanceOf(AuthUnavailable);
    expect(performance.now() - started).toBeLessThan(4_000);
    expect(server.received).toHaveLength(1);
  });
});

describe.each(ENGINES)('introspection through the HTTP app on %s', (engine) => {
  let server: ScriptedServer;
  let t: TestApp;
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    HERALD_AUTH_INTROSPECTION_URL: server.url,
    HERALD_AUTH_CLIENT_ID: 'herald',
    HERALD_AUTH_CLIENT_SECRET: 's3cret',
    ...extra,
  });
  const list = (token: string, app: TestApp = t) => app.client(token, 'GET', '/api/v1/notifications');
  const expect503 = (res: Awaited<ReturnType<typeof list>>): void => {
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json()).toEqual({ error: 'Authentication service unavailable' });
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['content-type']).toMatch(/^application\/json\b/);
  };

  beforeAll(async () => {
    server = await startScriptedServer();
  });
  afterAll(() => server?.close());
  beforeEach(async () => {
    server.script = () => activeAnswer();
    server.received.length = 0;
    t = await createTestApp(engine, { env: env() });
  });
  afterEach(() => t.close());

  it('an active token works; the request carried the client credentials', async () => {
    const res = await list('opaque-active');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual([]);
    expect(server.received).toHaveLength(1);
    expect(server.received[0].headers.authorization).toBe(`Basic ${Buffer.from('herald:s3cret').toString('base64')}`);
    expect(new URLSearchParams(server.received[0].body).get('token')).toBe('opaque-active');
  });

  it('500, non-JSON and non-RFC 7662 answers → 503 with Retry-After, never 500 or 200', async () => {
    const answers: Answer[] = [
      { status: 500, body: 'Internal Server Error', contentType: 'text/plain' },
      { status: 502, body: '<html>Bad Gateway</html>', contentType: 'text/html' },
      { status: 503, body: JSON.stringify({ error: 'temporarily_unavailable' }) },
      { status: 200, body: '<!doctype html><title>Log in</title>', contentType: 'text/html' },
      { status: 200, body: JSON.stringify({ sub: '1', scope: 'read' }) },
      { status: 200, body: JSON.stringify({ active: 'yes', sub: '1', scope: 'read' }) },
      'drop',
    ];
    for (const [i, answer] of answers.entries()) {
      server.script = () => answer;
      expect503(await list(`opaque-down-${i}`));
      // The failure is not cached: the next try asks again, and succeeds once the endpoint is back.
      expect503(await list(`opaque-down-${i}`));
    }
    expect(server.received).toHaveLength(answers.length * 2);
    server.script = () => activeAnswer();
    expect((await list('opaque-down-0')).statusCode).toBe(200);
  });

  it('an endpoint that never answers → 503 after about 2 s', async () => {
    server.script = () => 'hang';
    const started = performance.now();
    expect503(await list('opaque-hung'));
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  it('400 unsupported_token_type, 401 OAuth errors and active:false → 401', async () => {
    server.script = () => ({ status: 400, body: JSON.stringify({ error: 'unsupported_token_type' }) });
    const res = await list('opaque-unsupported');
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json()).toEqual({ error: 'The access token is invalid' });
    expect(res.headers['retry-after']).toBeUndefined();
    server.script = () => ({ status: 401, body: JSON.stringify({ error: 'invalid_token' }) });
    expect((await list('opaque-401')).statusCode).toBe(401);
    server.script = () => ({ status: 200, body: JSON.stringify({ active: false }) });
    expect((await list('opaque-inactive')).statusCode).toBe(401);
    server.script = () => activeAnswer({ exp: NOW_S - 1 });
    expect((await list('opaque-expired')).statusCode).toBe(401);
  });

  it('an inactive answer is believed for 10 s', async () => {
    server.script = () => ({ status: 200, body: JSON.stringify({ active: false }) });
    expect((await list('opaque-soon-active')).statusCode).toBe(401);
    server.script = () => activeAnswer();
    t.clock.now += 9_000;
    expect((await list('opaque-soon-active')).statusCode).toBe(401);
    expect(server.received).toHaveLength(1);
    t.clock.now += 2_000;
    expect((await list('opaque-soon-active')).statusCode).toBe(200);
    expect(server.received).toHaveLength(2);
  });

  it('a cached active token survives the endpoint going down until the cache time (60 s) runs out, then 503', async () => {
    expect((await list('opaque-cached')).statusCode).toBe(200);
    expect(server.received).toHaveLength(1);
    server.script = () => ({ status: 500, body: 'down', contentType: 'text/plain' });
    // A token never seen gets 503 meanwhile; the cached one does not notice.
    expect503(await list('opaque-new'));
    t.clock.now += 30_000;
    expect((await list('opaque-cached')).statusCode).toBe(200);
    t.clock.now += 29_000;
    expect((await list('opaque-cached')).statusCode).toBe(200);
    expect(server.received).toHaveLength(2); // the first answer and opaque-new's try
    t.clock.now += 2_000;
    expect503(await list('opaque-cached'));
    expect(server.received).toHaveLength(3);
    // Back up: the token is asked about again and works.
    server.script = () => activeAnswer();
    expect((await list('opaque-cached')).statusCode).toBe(200);
  });

  it('HERALD_AUTH_CACHE_SECONDS sets the cache time; an exp sooner than it ends the caching first', async () => {
    const short = await createTestApp(engine, { env: env({ HERALD_AUTH_CACHE_SECONDS: '5' }) });
    try {
      expect((await list('opaque-short', short)).statusCode).toBe(200);
      server.script = () => ({ status: 500, body: 'down', contentType: 'text/plain' });
      short.clock.now += 4_000;
      expect((await list('opaque-short', short)).statusCode).toBe(200);
      short.clock.now += 2_000;
      expect503(await list('opaque-short', short));
    } finally {
      await short.close();
    }
    // Default cache time, but the token expires in 20 s: cached until then, and then the endpoint is asked.
    server.script = () => activeAnswer({ exp: NOW_S + 20 });
    expect((await list('opaque-exp')).statusCode).toBe(200);
    server.script = () => ({ status: 500, body: 'down', contentType: 'text/plain' });
    t.clock.now += 19_000;
    expect((await list('opaque-exp')).statusCode).toBe(200);
    t.clock.now += 2_000;
    expect503(await list('opaque-exp'));
  });

  it('concurrent checks of one token share one request', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => list('opaque-concurrent')));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(server.received).toHaveLength(1);
  });

  it('a public route with a bearer still answers 200 while the endpoint is down', async () => {
    server.script = () => ({ status: 500, body: 'down', contentType: 'text/plain' });
    const res = await t.client('opaque-public', 'GET', '/api/v1/instance');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toHaveProperty('uri');
    // The same bearer on a route that needs it: 503.
    expect503(await list('opaque-public'));
  });
});
