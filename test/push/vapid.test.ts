import { verify } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { generateVapidKeys, publicKeyFromPoint } from '../../src/push/keys.js';
import { createVapidSigner, formatVapidHeaders, VAPID_TOKEN_LIFETIME_SECONDS } from '../../src/push/vapid.js';
import { checkVapidSubject } from '../../src/push/vapid-subject.js';

const HOUR = 60 * 60 * 1000;
const START = Date.UTC(2025, 0, 15, 12, 0, 0);

function fakeClock(start = START) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

function decodeJwt(token: string) {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString()) as { aud: string; exp: number; sub: string },
    rawClaims: Buffer.from(payload, 'base64url').toString(),
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

function setup(subject = 'mailto:ops@example.org') {
  const keys = generateVapidKeys();
  const clock = fakeClock();
  const signer = createVapidSigner({ ...keys, subject, now: clock.now });
  return { keys, clock, signer };
}

describe('VAPID JWT (RFC 8292 §2)', () => {
  it('is an ES256 JWT whose signature verifies against our public key', () => {
    const { keys, signer } = setup();
    const jwt = decodeJwt(signer.tokenFor('https://fcm.googleapis.com/fcm/send/abc'));
    expect(jwt.header).toEqual({ typ: 'JWT', alg: 'ES256' });
    expect(jwt.signature.length).toBe(64);
    const publicKey = publicKeyFromPoint(Buffer.from(keys.publicKey, 'base64url'));
    expect(verify('sha256', Buffer.from(jwt.signingInput), { key: publicKey, dsaEncoding: 'ieee-p1363' }, jwt.signature)).toBe(true);
    const tampered = Buffer.from(jwt.signingInput.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
    expect(verify('sha256', tampered, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jwt.signature)).toBe(false);
  });

  it('claims aud = endpoint origin, exp within 24 h, sub = subject, in that order', () => {
    const { signer } = setup('https://herald.example.org');
    const jwt = decodeJwt(signer.tokenFor('https://updates.push.services.mozilla.com:8443/wpush/v2/gAAA?x=1'));
    expect(jwt.claims).toEqual({
      aud: 'https://updates.push.services.mozilla.com:8443',
      exp: START / 1000 + VAPID_TOKEN_LIFETIME_SECONDS,
      sub: 'https://herald.example.org',
    });
    expect(Object.keys(jwt.claims)).toEqual(['aud', 'exp', 'sub']);
    expect(jwt.claims.exp - START / 1000).toBeLessThanOrEqual(24 * 60 * 60);
    expect(jwt.claims.exp).toBeGreaterThan(START / 1000);
  });

  it('reuses one token for every message to one origin within the hour', () => {
    const { signer, clock } = setup();
    const first = signer.tokenFor('https://fcm.googleapis.com/fcm/send/a');
    clock.advance(59 * 60 * 1000);
    expect(signer.tokenFor(new URL('https://fcm.googleapis.com/fcm/send/b'))).toBe(first);
  });

  it('re-signs once the cached token is an hour old, so every token sent has ≥ 11 h left', () => {
    const { signer, clock } = setup();
    const first = signer.tokenFor('https://fcm.googleapis.com/x');
    clock.advance(HOUR);
    const second = signer.tokenFor('https://fcm.googleapis.com/x');
    expect(second).not.toBe(first);
    expect(decodeJwt(second).claims.exp).toBe(decodeJwt(first).claims.exp + 3600);
  });

  it('signs at most once an hour per origin under steady traffic', () => {
    const { signer, clock } = setup();
    const seen = new Set<string>();
    for (let minute = 0; minute < 3 * 60; minute += 1) {
      const token = signer.tokenFor('https://web.push.apple.com/QGn');
      seen.add(token);
      const left = decodeJwt(token).claims.exp * 1000 - clock.now();
      expect(left).toBeGreaterThan(11 * HOUR - 1);
      clock.advance(60 * 1000);
    }
    expect(seen.size).toBe(3);
  });

  it('keeps a separate token per origin', () => {
    const { signer } = setup();
    const fcm = signer.tokenFor('https://fcm.googleapis.com/fcm/send/a');
    const apple = signer.tokenFor('https://web.push.apple.com/a');
    expect(apple).not.toBe(fcm);
    expect(decodeJwt(fcm).claims.aud).toBe('https://fcm.googleapis.com');
    expect(decodeJwt(apple).claims.aud).toBe('https://web.push.apple.com');
    expect(signer.tokenFor('https://fcm.googleapis.com/fcm/send/z')).toBe(fcm);
  });

  it('re-signs when the clock steps back, so exp never drifts past 24 h ahead', () => {
    const { signer, clock } = setup();
    const first = signer.tokenFor('https://fcm.googleapis.com/x');
    clock.advance(-20 * HOUR);
    const second = signer.tokenFor('https://fcm.googleapis.com/x');
    expect(second).not.toBe(first);
    expect(decodeJwt(second).claims.exp * 1000 - clock.now()).toBeLessThanOrEqual(24 * HOUR);
  });

  it('refuses a broken key pair and an empty subject', () => {
    const keys = generateVapidKeys();
    const other = generateVapidKeys();
    expect(() => createVapidSigner({ publicKey: keys.publicKey, privateKey: other.privateKey, subject: 'mailto:a@b.org', now: Date.now })).toThrow(
      expect.objectContaining({ code: 'ERR_VAPID_INVALID_KEY' }),
    );
    expect(() => createVapidSigner({ ...keys, subject: '', now: Date.now })).toThrow(expect.objectContaining({ code: 'ERR_VAPID_INVALID_SUBJECT' }));
  });
});

describe('VAPID header forms', () => {
  it('aes128gcm: RFC 8292 §3 "vapid t=…, k=…" with the unpadded key', () => {
    const { signer, keys } = setup();
    const headers = signer.headersFor('https://fcm.googleapis.com/x', 'aes128gcm');
    const token = signer.tokenFor('https://fcm.googleapis.com/x');
    expect(headers).toEqual({ authorization: `vapid t=${token}, k=${keys.publicKey}` });
    expect(keys.publicKey).not.toContain('=');
  });

  it('aesgcm: "WebPush <JWT>" and p256ecdsa= for Crypto-Key', () => {
    expect(formatVapidHeaders('a.b.c', 'KEY', 'aesgcm')).toEqual({ authorization: 'WebPush a.b.c', cryptoKey: 'p256ecdsa=KEY' });
  });
});

describe('checkVapidSubject (SPEC §8.3)', () => {
  it.each([
    'mailto:ops@example.org',
    'mailto:push+herald@mail.example.co.uk',
    'https://herald.example.org',
    'https://herald.example.org/contact',
    'https://203.0.113.7',
  ])('accepts %s', (subject) => {
    expect(checkVapidSubject(subject)).toEqual({ ok: true });
  });

  it.each([
    ['empty', ''],
    ['http', 'http://herald.example.org'],
    ['https localhost', 'https://localhost'],
    ['https localhost with port', 'https://localhost:3000'],
    ['https *.localhost', 'https://herald.localhost'],
    ['https *.local', 'https://herald.local'],
    ['https *.local with trailing dot', 'https://herald.local.'],
    ['https *.invalid', 'https://example.invalid'],
    ['https loopback IP', 'https://127.0.0.1'],
    ['https IPv6 loopback', 'https://[::1]'],
    ['mailto without @', 'mailto:ops'],
    ['mailto on localhost', 'mailto:root@localhost'],
    ['mailto with empty domain', 'mailto:ops@'],
    ['a bare address', 'ops@example.org'],
    ['not a URL', 'herald'],
  ])('refuses %s with a reason', (_label, subject) => {
    const check = checkVapidSubject(subject);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason.length).toBeGreaterThan(5);
  });
});
