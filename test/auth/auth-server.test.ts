// The test authorization server alone, without Herald: its tokens are real, introspectable, revocable and
// verifiable against its published keys.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthServer, type AuthServer } from '../support/auth-server.js';

let auth: AuthServer;

beforeAll(async () => {
  auth = await startAuthServer();
});

afterAll(async () => {
  await auth?.close();
});

async function introspect(token: string): Promise<Record<string, unknown>> {
  const res = await fetch(auth.introspectionUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${auth.clientId}:${auth.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('test authorization server', () => {
  it('issues opaque tokens that introspect as active until revoked', async () => {
    const token = await auth.issueToken({ sub: 'alice', scope: 'read write push', format: 'opaque' });
    expect(token.split('.')).toHaveLength(1);
    const before = auth.introspectionCalls();

    const info = await introspect(token);
    expect(info).toMatchObject({ active: true, sub: 'alice', scope: 'read write push', iss: auth.issuer, aud: auth.audience });
    expect(typeof info.exp).toBe('number');
    expect(auth.introspectionCalls()).toBe(before + 1);

    await auth.revoke(token);
    expect(await introspect(token)).toEqual({ active: false });
    expect(auth.introspectionCalls()).toBe(before + 2);
  });

  it('accepts granular Mastodon scopes and rejects a wrong client secret', async () => {
    const token = await auth.issueToken({ sub: 'bob', scope: 'read:notifications admin:read:accounts', format: 'opaque' });
    expect(await introspect(token)).toMatchObject({ active: true, sub: 'bob', scope: 'read:notifications admin:read:accounts' });

    const res = await fetch(auth.introspectionUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${auth.clientId}:wrong`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    expect(res.status).toBe(401);
  });

  it('honours ttlSeconds', async () => {
    const token = await auth.issueToken({ sub: 'carol', scope: 'read', format: 'opaque', ttlSeconds: 120 });
    const info = await introspect(token);
    expect((info.exp as number) - (info.iat as number)).toBe(120);
  });

  it('issues RFC 9068 JWT access tokens verifiable with the published JWKS', async () => {
    const token = await auth.issueToken({ sub: 'dave', scope: 'read:notifications push', format: 'jwt', ttlSeconds: 300 });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });

    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(auth.jwksUrl)), {
      issuer: auth.issuer,
      audience: auth.audience,
    });
    expect(payload.sub).toBe('dave');
    expect(payload.scope).toBe('read:notifications push');
    expect(typeof payload.iat).toBe('number');
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
  });
});
