// SPEC §13's JWT access tokens, verifier alone: a key set served from 127.0.0.1 by a tiny node:http server
// (which counts its requests), tokens signed here with jose or built by hand. Every refusal sits beside a
// token that differs only in the one thing refused, so a verifier that refused everything would fail.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { createJwtVerifier, looksLikeJws, type JwtVerifier } from '../../src/auth/jwt-verifier.js';
import { AuthUnavailable, type TokenVerdict } from '../../src/auth/token-claims.js';
import { freePort } from '../support/free-port.js';

const ISSUER = 'https://auth.example.test/';
const AUDIENCE = 'https://herald.test';
const NOW = Date.parse('2026-11-22T12:00:00.000Z');
const NOW_S = NOW / 1000;

type Alg = 'ES256' | 'RS256' | 'PS256' | 'EdDSA';

interface SigningKey {
  readonly alg: Alg;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** As served in the key set. */
  readonly jwk: JWK;
}

async function makeKey(alg: Alg, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = alg === 'EdDSA' ? await generateKeyPair('EdDSA', { crv: 'Ed25519' }) : await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, jwk };
}

interface JwksServer {
  readonly url: string;
  /** Requests served so far. */
  requests: number;
  keys: JWK[];
  /** Status to answer with; anything but 200 gets a plain-text body. */
  status: number;
  /** A body to send instead of the key set (with status 200). */
  body?: string;
  close(): Promise<void>;
}

async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const server = http.createServer((_req, res) => {
    state.requests += 1;
    if (state.status !== 200) {
      res.writeHead(state.status, { 'content-type': 'text/plain' }).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(state.body ?? JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  const state: JwksServer = {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: 0,
    keys,
    status: 200,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** Claims of a good token at NOW; an override of `undefined` leaves the claim out. */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const all: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: '42',
    client_id: 'app',
    scope: 'read write push',
    iat: NOW_S - 10,
    exp: NOW_S + 300,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as JWTPayload;
}

async function sign(key: SigningKey, overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims(overrides)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
}

/** An HS256 JWS made by hand with `secret` as the HMAC key: what a key-confusion forger sends. */
function hmacToken(secret: string | Buffer, kid: string, payload: JWTPayload = claims()): string {
  const input = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid }))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const clock = { now: NOW };
const verifierFor = (server: JwksServer, settings: { issuer?: string; audience?: string | undefined } = {}): JwtVerifier =>
  createJwtVerifier(
    {
      jwksUrl: server.url,
      issuer: settings.issuer ?? ISSUER,
      audience: 'audience' in settings ? settings.audience : AUDIENCE,
      accountClaim: 'sub',
    },
    () => clock.now,
  );

const expectActive = (verdict: TokenVerdict): void => expect(verdict, JSON.stringify(verdict)).toMatchObject({ active: true });
const expectRefused = (verdict: TokenVerdict): void => expect(verdict, JSON.stringify(verdict)).toMatchObject({ active: false });

let keys: Record<Alg, SigningKey>;
let stranger: SigningKey;
let server: JwksServer;

beforeAll(async () => {
  keys = {
    ES256: await makeKey('ES256', 'es-1'),
    RS256: await makeKey('RS256', 'rs-1'),
    PS256: await makeKey('PS256', 'ps-1'),
    EdDSA: await makeKey('EdDSA', 'ed-1'),
  };
  stranger = await makeKey('ES256', 'es-1'); // same kid as the served ES256 key, another key
  server = await startJwksServer(Object.values(keys).map((k) => k.jwk));
});
afterAll(() => server?.close());
afterEach(() => {
  clock.now = NOW;
  vi.useRealTimers();
});

describe('looksLikeJws', () => {
  it.each([
    ['eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2ln', true],
    ['a.b.c', true],
    ['a-_.b-_.c-_', true],
    ['eyJhbGciOiJub25lIn0.eyJzdWIiOiI0MiJ9.', true], // alg none: empty signature
    ['a.b', false],
    ['a.b.c.d', false],
    ['a.b.c.d.e', false], // a compact JWE
    ['.b.c', false],
    ['a..c', false],
    ['', false],
    ['opaque-token_0123456789abcdefABCDEF', false],
    ['a.b+/.c', false], // base64, not base64url
    ['a.b.c=', false],
    ['a.b.c ', false],
    [' a.b.c', false],
    ['a.b.c\n', false],
  ])('%j → %s', (token, expected) => {
    expect(looksLikeJws(token)).toBe(expected);
  });
});

describe('createJwtVerifier', () => {
  describe('accepts a well-formed token signed with a served key', () => {
    it.each(['ES256', 'RS256', 'PS256', 'EdDSA'] as const)('%s', async (alg) => {
      const verdict = await verifierFor(server).verify(await sign(keys[alg]));
      expect(verdict).toEqual({
        active: true,
        accountId: '42',
        scopes: 'read write push',
        expiresAt: (NOW_S + 300) * 1000,
        issuedAt: (NOW_S - 10) * 1000,
      });
    });

    it('an `aud` array that holds the audience, and no audience check when none is configured', async () => {
      const verifier = verifierFor(server);
      expectActive(await verifier.verify(await sign(keys.ES256, { aud: ['https://other.test', AUDIENCE] })));
      const lax = verifierFor(server, { audience: undefined });
      expectActive(await lax.verify(await sign(keys.ES256, { aud: undefined })));
      expectActive(await lax.verify(await sign(keys.ES256, { aud: 'https://anything.test' })));
    });

    it('the account from the configured claim, null without one; scopes normalised', async () => {
      const verifier = createJwtVerifier({ jwksUrl: server.url, issuer: ISSUER, audience: AUDIENCE, accountClaim: 'account_id' }, () => clock.now);
      expect(await verifier.verify(await sign(keys.ES256, { account_id: 7, scope: '  read   push ' }))).toMatchObject({
        active: true,
        accountId: '7',
        scopes: 'read push',
      });
      expect(await verifier.verify(await sign(keys.ES256, { scope: undefined, iat: undefined }))).toMatchObject({
        active: true,
        accountId: null,
        scopes: '',
        issuedAt: null,
      });
    });
  });

  describe('refuses (active: false)', () => {
    it('a wrong issuer', async () => {
      const verifier = verifierFor(server);
      expectActive(await verifier.verify(await sign(keys.ES256, { iss: ISSUER })));
      expectRefused(await verifier.verify(await sign(keys.ES256, { iss: 'https://evil.example.test/' })));
      expectRefused(await verifier.verify(await sign(keys.ES256, { iss: 'https://auth.example.test' }))); // no trailing slash
      expectRefused(await verifier.verify(await sign(keys.ES256, { iss: undefined })));
    });

    it('a wrong audience, and a missing one when one is required', async () => {
      const verifier = verifierFor(server);
      expectActive(await verifier.verify(await sign(keys.ES256, { aud: AUDIENCE })));
      expectRefused(await verifier.verify(await sign(keys.ES256, { aud: 'https://other.test' })));
      expectRefused(await verifier.verify(await sign(keys.ES256, { aud: ['https://other.test'] })));
      expectRefused(await verifier.verify(await sign(keys.ES256, { aud: undefined })));
    });

    it('expired beyond the 60 s leeway, accepted within it', async () => {
      const verifier = verifierFor(server);
      expectActive(await verifier.verify(await sign(keys.ES256, { exp: NOW_S - 59 })));
      expectRefused(await verifier.verify(await sign(keys.ES256, { exp: NOW_S - 61 })));
      expectRefused(await verifier.verify(await sign(keys.ES256, { exp: NOW_S - 3600 })));
      // The verifier reads the clock it is given.
      const token = await sign(keys.ES256, { exp: NOW_S + 100 });
      expectActive(await verifier.verify(token));
      clock.now = NOW + 159_000;
      expectActive(await verifier.verify(token));
      clock.now = NOW + 161_000;
      expectRefused(await verifier.verify(token));
    });

    it('`nbf` in the future beyond the leeway, accepted within it', async () => {
      const verifier = verifierFor(server);
      expectActive(await verifier.verify(await sign(keys.ES256, { nbf: NOW_S + 59 })));
      expectRefused(await verifier.verify(await sign(keys.ES256, { nbf: NOW_S + 61 })));
    });

    it('no `exp` at all, or one that is not a number', async () => {
      const verifier = verifierFor(server);
      expectActive(await verifier.verify(await sign(keys.ES256)));
      expectRefused(await verifier.verify(await sign(keys.ES256, { exp: undefined })));
      expectRefused(await verifier.verify(await sign(keys.ES256, { exp: String(NOW_S + 300) })));
    });

    it('`alg: none` with an empty signature', async () => {
      const verifier = verifierFor(server);
      const payload = b64url(JSON.stringify(claims()));
      for (const header of [{ alg: 'none' }, { alg: 'none', kid: keys.ES256.kid }, { alg: 'None', typ: 'JWT' }, { alg: 'NONE' }]) {
        const token = `${b64url(JSON.stringify(header))}.${payload}.`;
        expect(looksLikeJws(token)).toBe(true);
        expectRefused(await verifier.verify(token));
      }
      // The same claims, properly signed, pass: the refusal is the algorithm's.
      expectActive(await verifier.verify(await sign(keys.ES256)));
    });

    it('HS256 signed with the served public key as the HMAC secret (key confusion)', async () => {
      const verifier = verifierFor(server);
      for (const alg of ['ES256', 'RS256'] as const) {
        const key = keys[alg];
        const secrets = [
          JSON.stringify(key.jwk),
          JSON.stringify(await exportJWK(key.publicKey)),
          await exportSPKI(key.publicKey),
          (await exportSPKI(key.publicKey)).trim(),
        ];
        for (const secret of secrets) expectRefused(await verifier.verify(hmacToken(secret, key.kid)));
      }
      // An HMAC token made through jose itself, too.
      const pem = await exportSPKI(keys.RS256.publicKey);
      const viaJose = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: keys.RS256.kid }).sign(new TextEncoder().encode(pem));
      expectRefused(await verifier.verify(viaJose));
      expectActive(await verifier.verify(await sign(keys.RS256)));
    });

    it('a token signed by another key that claims the served key’s `kid` (forged)', async () => {
      const verifier = verifierFor(server);
      expect(stranger.kid).toBe(keys.ES256.kid);
      expectActive(await verifier.verify(await sign(keys.ES256)));
      expectRefused(await verifier.verify(await sign(stranger)));
      // Another kid of the set, claimed by a stranger's RSA key.
      const rsaStranger = await makeKey('RS256', keys.RS256.kid);
      expectRefused(await verifier.verify(await sign(rsaStranger)));
    });

    it('a tampered payload or header', async () => {
      const verifier = verifierFor(server);
      const token = await sign(keys.ES256, { sub: '42', scope: 'read' });
      expectActive(await verifier.verify(token));
      const [header, , signature] = token.split('.');
      const escalated = `${header}.${b64url(JSON.stringify(claims({ sub: '1', scope: 'read write push' })))}.${signature}`;
      expectRefused(await verifier.verify(escalated));
      const otherKid = `${b64url(JSON.stringify({ alg: 'ES256', kid: keys.ES256.kid, typ: 'JWT' }))}.${token.split('.')[1]}.${signature}`;
      expectRefused(await verifier.verify(otherKid));
      // A changed signature character inside it (the last one carries padding bits, and "AA" at the end
      // left one signature in 256 unchanged).
      const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
      expectRefused(await verifier.verify(`${header}.${token.split('.')[1]}.${flipped}`));
      expectRefused(await verifier.verify(`${header}.${token.split('.')[1]}.`)); // signature stripped
    });

    it('malformed compact tokens are refused, not reported as the key set being unavailable', async () => {
      const verifier = verifierFor(server);
      await verifier.preload();
      const payload = b64url(JSON.stringify(claims()));
      const malformed = [
        'a.b.c',
        `${b64url('not json')}.${payload}.c2ln`,
        `${b64url(JSON.stringify({ alg: 'ES256', kid: keys.ES256.kid }))}.${b64url('not json')}.c2ln`,
        `${b64url(JSON.stringify({ alg: 'ES256', kid: keys.ES256.kid }))}.${b64url('[1,2]')}.c2ln`,
        `${b64url('"ES256"')}.${payload}.c2ln`,
        `${b64url(JSON.stringify({ alg: 'ES256', kid: 12 }))}.${payload}.c2ln`,
        `${b64url(JSON.stringify({ alg: 'ES256', kid: keys.ES256.kid, crit: ['exp'] }))}.${payload}.c2ln`,
        `${b64url(JSON.stringify({ alg: 'ES256', kid: keys.ES256.kid, b64: false, crit: ['b64'] }))}.${payload}.c2ln`,
        `${b64url(JSON.stringify({ alg: 'ES256', kid: keys.ES256.kid, jku: 'http://127.0.0.1:1/jwks' }))}.${payload}.c2ln`,
        `${b64url(JSON.stringify({ alg: 'ES256', kid: keys.ES256.kid }))}.${payload}.%%%`,
      ];
      for (const token of malformed) {
        await expect(verifier.verify(token), token).resolves.toMatchObject({ active: false });
      }
    });
  });

  describe('the key set', () => {
    it('is fetched once and reused; preload fetches it ahead of the first token', async () => {
      const own = await startJwksServer([keys.ES256.jwk]);
      try {
        const verifier = verifierFor(own);
        await verifier.preload();
        expect(own.requests).toBe(1);
        for (let i = 0; i < 5; i++) expectActive(await verifier.verify(await sign(keys.ES256, { sub: String(i) })));
        expectRefused(await verifier.verify(await sign(stranger)));
        expect(own.requests).toBe(1);
        // Once fetched, the server going down does not affect tokens signed with a key in hand.
        own.status = 500;
        expectActive(await verifier.verify(await sign(keys.ES256)));
      } finally {
        await own.close();
      }
    });

    it('a key in hand keeps working while the JWKS server is down, however long ago the set was fetched', async () => {
      const own = await startJwksServer([keys.ES256.jwk]);
      try {
        const verifier = verifierFor(own);
        vi.useFakeTimers({ toFake: ['Date'] });
        const token = await sign(keys.ES256);
        expectActive(await verifier.verify(token));
        own.status = 500;
        vi.setSystemTime(Date.now() + 11 * 60_000);
        expectActive(await verifier.verify(token));
        expect(own.requests).toBe(1);
      } finally {
        vi.useRealTimers();
        await own.close();
      }
    });

    it('an unknown kid right after a fetch does not fetch again (at most once a minute)', async () => {
      const own = await startJwksServer([keys.ES256.jwk]);
      try {
        const verifier = verifierFor(own);
        expectActive(await verifier.verify(await sign(keys.ES256)));
        expect(own.requests).toBe(1);
        const unknown = await makeKey('ES256', 'unknown-1');
        for (let i = 0; i < 3; i++) expectRefused(await verifier.verify(await sign(unknown)));
        expect(own.requests).toBe(1);
      } finally {
        await own.close();
      }
    });

    it('an unknown kid fetches again once the minute is over, once for several such tokens; a rotated-in key is then accepted', async () => {
      const own = await startJwksServer([keys.ES256.jwk]);
      try {
        const verifier = verifierFor(own);
        // jose's cooldown reads Date.now(): only Date is faked, and moved by hand.
        vi.useFakeTimers({ toFake: ['Date'] });
        expectActive(await verifier.verify(await sign(keys.ES256)));
        expect(own.requests).toBe(1);

        vi.setSystemTime(Date.now() + 61_000);
        const unknownA = await makeKey('ES256', 'unknown-a');
        const unknownB = await makeKey('ES256', 'unknown-b');
        expectRefused(await verifier.verify(await sign(unknownA)));
        expect(own.requests).toBe(2);
        expectRefused(await verifier.verify(await sign(unknownB)));
        expectRefused(await verifier.verify(await sign(unknownA)));
        expect(own.requests).toBe(2);

        // The host rotates a new key in; within the minute it is not fetched yet.
        const rotated = await makeKey('RS256', 'rs-rotated');
        own.keys = [keys.ES256.jwk, rotated.jwk];
        const token = await sign(rotated);
        vi.setSystemTime(Date.now() + 30_000);
        expectRefused(await verifier.verify(token));
        expect(own.requests).toBe(2);

        vi.setSystemTime(Date.now() + 31_000);
        expectActive(await verifier.verify(token));
        expect(own.requests).toBe(3);
        // Both keys are now in hand; nothing more is fetched.
        expectActive(await verifier.verify(await sign(rotated, { sub: '43' })));
        expectActive(await verifier.verify(await sign(keys.ES256)));
        expect(own.requests).toBe(3);

        // The old key rotated out: still trusted until the next fetch (an unknown kid after the cooldown).
        own.keys = [rotated.jwk];
        vi.setSystemTime(Date.now() + 61_000);
        expectRefused(await verifier.verify(await sign(unknownB)));
        expect(own.requests).toBe(4);
        expectRefused(await verifier.verify(await sign(keys.ES256)));
        expectActive(await verifier.verify(token));
      } finally {
        await own.close();
      }
    });

    it('a first token with a kid that is only in the freshly served set is accepted', async () => {
      const own = await startJwksServer([]);
      try {
        const rotated = await makeKey('PS256', 'ps-new');
        own.keys = [rotated.jwk];
        expectActive(await verifierFor(own).verify(await sign(rotated)));
        expect(own.requests).toBe(1);
      } finally {
        await own.close();
      }
    });
  });

  describe('unavailable: verify throws AuthUnavailable when no key set was ever fetched', () => {
    it('the JWKS server answers 500', async () => {
      const own = await startJwksServer([keys.ES256.jwk]);
      try {
        own.status = 500;
        const verifier = verifierFor(own);
        const token = await sign(keys.ES256);
        await expect(verifier.verify(token)).rejects.toBeInstanceOf(AuthUnavailable);
        expect(own.requests).toBeGreaterThanOrEqual(1);
        await expect(verifier.verify(token)).rejects.toBeInstanceOf(AuthUnavailable);
        // Once it answers again, the same token is accepted.
        own.status = 200;
        expectActive(await verifier.verify(token));
      } finally {
        await own.close();
      }
    });

    it('the JWKS server answers 200 with something that is not a key set', async () => {
      const own = await startJwksServer([keys.ES256.jwk]);
      try {
        const verifier = verifierFor(own);
        const token = await sign(keys.ES256);
        for (const body of ['<html>login</html>', '{"keys":"nope"}', '{}']) {
          own.body = body;
          await expect(verifier.verify(token), body).rejects.toBeInstanceOf(AuthUnavailable);
        }
      } finally {
        await own.close();
      }
    });

    it('nothing listens at the JWKS URL', async () => {
      const port = await freePort();
      const verifier = createJwtVerifier(
        { jwksUrl: `http://127.0.0.1:${port}/jwks`, issuer: ISSUER, audience: AUDIENCE, accountClaim: 'sub' },
        () => clock.now,
      );
      const error = await verifier.verify(await sign(keys.ES256)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AuthUnavailable);
      expect((error as AuthUnavailable).message).toBe('Authentication service unavailable');
      expect((error as AuthUnavailable).code).toBe('ERR_AUTH_UNAVAILABLE');
      // preload reports the failure too (the caller decides what to do with it).
      await expect(verifier.preload()).rejects.toBeDefined();
    });
  });
});
