import { createECDH, randomBytes, verify } from 'node:crypto';

import ece from 'http_ece';
import { describe, expect, it } from 'vitest';

import { buildPushRequest, isValidTopic, topicForGroupKey, type BuildPushRequestInput } from '../../src/push/build-push-request.js';
import { createEphemeralKey, generateVapidKeys, publicKeyFromPoint } from '../../src/push/keys.js';
import { buildPushPayload } from '../../src/push/payload.js';
import { createVapidSigner } from '../../src/push/vapid.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const vapidKeys = generateVapidKeys();
const vapid = createVapidSigner({ ...vapidKeys, subject: 'mailto:ops@example.org', now: () => NOW });

/** A browser: its key pair and auth secret, keys in the url-safe form browsers hand out. */
function browser() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const authSecret = randomBytes(16);
  return { ecdh, authSecret, p256dh: ecdh.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url') };
}

function request(standard: boolean, overrides: Partial<BuildPushRequestInput> = {}) {
  const ua = browser();
  const input: BuildPushRequestInput = {
    subscription: { endpoint: 'https://push.example.net/wpush/v2/abc?x=1', p256dh: ua.p256dh, auth: ua.auth, standard },
    payload: '{"title":"Hello 🍉"}',
    vapid,
    random: randomBytes,
    createEphemeralKey,
    ...overrides,
  };
  return { ua, input, req: buildPushRequest(input) };
}

function verifyJwt(jwt: string) {
  const [header, claims, signature] = jwt.split('.');
  const key = publicKeyFromPoint(Buffer.from(vapidKeys.publicKey, 'base64url'));
  expect(verify('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))).toBe(true);
  return JSON.parse(Buffer.from(claims, 'base64url').toString()) as { aud: string; exp: number; sub: string };
}

describe('buildPushRequest, standard: true (aes128gcm)', () => {
  it('builds the SPEC §8.6 request, decryptable by http_ece', () => {
    const { ua, req } = request(true);
    expect(req.url).toBe('https://push.example.net/wpush/v2/abc?x=1');
    expect(req.method).toBe('POST');
    expect(Object.keys(req.headers).sort()).toEqual(['authorization', 'content-encoding', 'content-type', 'ttl', 'urgency']);
    expect(req.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-encoding': 'aes128gcm',
      ttl: '172800',
      urgency: 'normal',
    });
    const plain = ece.decrypt(req.body, { version: 'aes128gcm', privateKey: ua.ecdh, authSecret: ua.auth });
    expect(plain.toString()).toBe('{"title":"Hello 🍉"}');
  });

  it('authorizes with RFC 8292 "vapid t=<JWT>, k=<key>" for the endpoint origin', () => {
    const { req } = request(true);
    const match = /^vapid t=([^,]+), k=([A-Za-z0-9_-]+)$/.exec(req.headers.authorization);
    expect(match).not.toBeNull();
    expect(match![2]).toBe(vapidKeys.publicKey);
    expect(verifyJwt(match![1])).toEqual({ aud: 'https://push.example.net', exp: NOW / 1000 + 12 * 3600, sub: 'mailto:ops@example.org' });
  });

  it('accepts keys in standard base64 with padding, and as bytes', () => {
    const ua = browser();
    for (const keys of [
      { p256dh: ua.ecdh.getPublicKey().toString('base64'), auth: ua.authSecret.toString('base64') },
      { p256dh: ua.ecdh.getPublicKey(), auth: ua.authSecret },
    ]) {
      const { req } = request(true, { subscription: { endpoint: 'https://push.example.net/x', standard: true, ...keys } });
      expect(ece.decrypt(req.body, { version: 'aes128gcm', privateKey: ua.ecdh, authSecret: ua.authSecret }).toString()).toBe('{"title":"Hello 🍉"}');
    }
  });

  it('fits the largest payload in 4096 bytes', () => {
    const payload = buildPushPayload({
      accessToken: 'tok', notificationId: 1, type: 'mention', actor: { username: 'x', display_name: '🍉'.repeat(5000) },
      status: { text: '\u0001'.repeat(200) }, locale: 'en',
    });
    const { req } = request(true, { payload: payload + ' '.repeat(3993 - Buffer.byteLength(payload)) });
    expect(req.body.length).toBe(4096);
  });
});

describe('buildPushRequest, standard: false (aesgcm)', () => {
  it('puts salt and dh in headers, the VAPID key in Crypto-Key, and decrypts with http_ece', () => {
    const { ua, req } = request(false);
    expect(req.headers['content-encoding']).toBe('aesgcm');
    const salt = /^salt=([A-Za-z0-9_-]{22})$/.exec(req.headers.encryption)![1];
    const cryptoKey = /^dh=([A-Za-z0-9_-]{87});p256ecdsa=([A-Za-z0-9_-]{87})$/.exec(req.headers['crypto-key'])!;
    expect(cryptoKey[2]).toBe(vapidKeys.publicKey);
    const plain = ece.decrypt(req.body, { version: 'aesgcm', privateKey: ua.ecdh, dh: cryptoKey[1], salt, authSecret: ua.auth });
    expect(plain.toString()).toBe('{"title":"Hello 🍉"}');
  });

  it('authorizes with "WebPush <JWT>"', () => {
    const { req } = request(false);
    const jwt = /^WebPush (\S+)$/.exec(req.headers.authorization)![1];
    expect(verifyJwt(jwt).aud).toBe('https://push.example.net');
  });
});

describe('buildPushRequest, randomness and options', () => {
  it('draws a fresh salt and ephemeral key for every call', () => {
    const ua = browser();
    const subscription = { endpoint: 'https://push.example.net/x', p256dh: ua.p256dh, auth: ua.auth, standard: true };
    const base = { subscription, payload: 'same', vapid, random: randomBytes, createEphemeralKey };
    const a = buildPushRequest(base);
    const b = buildPushRequest(base);
    expect(a.body.subarray(0, 16).equals(b.body.subarray(0, 16))).toBe(false); // salt
    expect(a.body.subarray(21, 86).equals(b.body.subarray(21, 86))).toBe(false); // key id = ephemeral key
  });

  it('is deterministic when randomness is fixed (it is injected, not drawn inside)', () => {
    const ua = browser();
    const fixedKey = createEphemeralKey().ecdh.getPrivateKey();
    const keyFactory = () => {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(fixedKey);
      return { ecdh, publicKey: ecdh.getPublicKey() };
    };
    const input = {
      subscription: { endpoint: 'https://push.example.net/x', p256dh: ua.p256dh, auth: ua.auth, standard: false },
      payload: 'same', vapid, random: (n: number) => Buffer.alloc(n, 9), createEphemeralKey: keyFactory,
    };
    const a = buildPushRequest(input);
    const b = buildPushRequest(input);
    expect(a.body.equals(b.body)).toBe(true);
    expect(a.headers).toEqual(b.headers);
    expect(a.headers.encryption).toBe(`salt=${Buffer.alloc(16, 9).toString('base64url')}`);
  });

  it('sets TTL, Urgency, Topic and Unsubscribe-URL when given', () => {
    const topic = topicForGroupKey('favourite-123-20250115');
    const { req } = request(true, {
      options: { ttl: 60, urgency: 'high', topic, unsubscribeUrl: 'https://herald.example/api/v1/push/unsubscribe/abc.def' },
    });
    expect(req.headers).toMatchObject({
      ttl: '60', urgency: 'high', topic, 'unsubscribe-url': 'https://herald.example/api/v1/push/unsubscribe/abc.def',
    });
    expect(request(true, { options: { ttl: 0 } }).req.headers.ttl).toBe('0');
  });

  it.each([
    ['a negative TTL', { ttl: -1 }],
    ['a fractional TTL', { ttl: 1.5 }],
    ['an unknown urgency', { urgency: 'urgent' as never }],
    ['a topic too long', { topic: 'a'.repeat(33) }],
    ['a topic with other characters', { topic: 'group:1' }],
    ['an empty topic', { topic: '' }],
    ['an Unsubscribe-URL with a line break', { unsubscribeUrl: 'https://h/x\r\nX-Evil: 1' }],
    ['a relative Unsubscribe-URL', { unsubscribeUrl: '/api/v1/push/unsubscribe/x' }],
  ])('refuses %s with ERR_PUSH_INVALID_OPTION', (_label, options) => {
    expect(() => request(true, { options })).toThrow(expect.objectContaining({ code: 'ERR_PUSH_INVALID_OPTION' }));
  });

  it.each([
    ['a p256dh that is not base64', { p256dh: '***' }, 'ERR_SUBSCRIPTION_INVALID_KEY'],
    ['a p256dh off the curve', { p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 3)]).toString('base64url') }, 'ERR_SUBSCRIPTION_INVALID_KEY'],
    ['a short auth', { auth: Buffer.alloc(8).toString('base64url') }, 'ERR_SUBSCRIPTION_INVALID_AUTH'],
    ['an endpoint that is not a URL', { endpoint: 'nope' }, 'ERR_SUBSCRIPTION_INVALID_ENDPOINT'],
  ])('refuses a subscription with %s', (_label, change, code) => {
    const ua = browser();
    const subscription = { endpoint: 'https://push.example.net/x', p256dh: ua.p256dh, auth: ua.auth, standard: true, ...change };
    expect(() => request(true, { subscription })).toThrow(expect.objectContaining({ code }));
  });

  it('refuses an oversized payload instead of sending a multi-record message', () => {
    expect(() => request(true, { payload: Buffer.alloc(3994) })).toThrow(expect.objectContaining({ code: 'ERR_PUSH_PAYLOAD_TOO_LARGE' }));
  });
});

describe('topicForGroupKey (RFC 8030 §5.4)', () => {
  it('gives 32 url-safe characters, the same for the same group, different across groups', () => {
    const topic = topicForGroupKey('favourite-109823-12345');
    expect(topic).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(isValidTopic(topic)).toBe(true);
    expect(topicForGroupKey('favourite-109823-12345')).toBe(topic);
    expect(topicForGroupKey('favourite-109823-12346')).not.toBe(topic);
    expect(topicForGroupKey('')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(topicForGroupKey('ünïcode 🍉 group')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
