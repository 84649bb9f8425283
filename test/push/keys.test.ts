import { createECDH, createPublicKey } from 'node:crypto';

import ece from 'http_ece';
import webpush from 'web-push';
import { describe, expect, it } from 'vitest';

import { encryptAes128gcm } from '../../src/push/encrypt-aes128gcm.js';
import {
  generateVapidKeys,
  oneShotKeySource,
  parseAuthSecret,
  parseP256dh,
  parseVapidKeys,
} from '../../src/push/keys.js';
import { PushError } from '../../src/push/push-errors.js';

function browserKey(): Buffer {
  const ecdh = createECDH('prime256v1');
  return ecdh.generateKeys();
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PushError);
    return (error as PushError).code;
  }
  return undefined;
}

describe('parseP256dh', () => {
  const point = browserKey();

  it.each([
    ['url-safe', point.toString('base64url')],
    ['standard with padding', point.toString('base64')],
    ['url-safe with padding', point.toString('base64url') + '='],
  ])('accepts a curve point written %s', (_label, text) => {
    expect(parseP256dh(text)).toEqual(point);
  });

  const offCurve = Buffer.from(point);
  offCurve[64] ^= 1;
  const compressed = createECDH('prime256v1');
  compressed.generateKeys();

  it.each([
    ['not base64', 'not base64!'],
    ['too short', point.subarray(0, 64).toString('base64url')],
    ['compressed form', compressed.getPublicKey(null, 'compressed').toString('base64url')],
    ['wrong prefix', Buffer.concat([Buffer.from([0x05]), point.subarray(1)]).toString('base64url')],
    ['off the curve', offCurve.toString('base64url')],
    ['all zero after the prefix', Buffer.concat([Buffer.from([4]), Buffer.alloc(64)]).toString('base64url')],
    ['coordinates beyond the field', Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 0xff)]).toString('base64url')],
    ['empty', ''],
  ])('refuses %s with ERR_SUBSCRIPTION_INVALID_KEY', (_label, text) => {
    expect(codeOf(() => parseP256dh(text))).toBe('ERR_SUBSCRIPTION_INVALID_KEY');
  });

  it('says what is wrong', () => {
    expect(() => parseP256dh(offCurve.toString('base64url'))).toThrow(/not a point on the P-256 curve/);
  });
});

describe('parseAuthSecret', () => {
  const secret = Buffer.from('0123456789abcdef');

  it.each([secret.toString('base64url'), secret.toString('base64')])('accepts 16 bytes as %j', (text) => {
    expect(parseAuthSecret(text)).toEqual(secret);
  });

  it.each([
    ['15 bytes', Buffer.alloc(15).toString('base64url')],
    ['17 bytes', Buffer.alloc(17).toString('base64url')],
    ['not base64', '!!!!'],
    ['empty', ''],
  ])('refuses %s with ERR_SUBSCRIPTION_INVALID_AUTH', (_label, text) => {
    expect(codeOf(() => parseAuthSecret(text))).toBe('ERR_SUBSCRIPTION_INVALID_AUTH');
  });
});

describe('VAPID keys', () => {
  it('generates a 65-byte public point and a 32-byte private scalar, url-safe without padding', () => {
    const pair = generateVapidKeys();
    expect(pair.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(pair.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const parsed = parseVapidKeys(pair);
    expect(parsed.publicKey.length).toBe(65);
    expect(parsed.privateKey.length).toBe(32);
    expect(parsed.signingKey.asymmetricKeyType).toBe('ec');
  });

  it('reads keys made by the web-push library', () => {
    const pair = webpush.generateVAPIDKeys();
    const parsed = parseVapidKeys(pair);
    expect(parsed.publicKey.toString('base64url')).toBe(pair.publicKey);
    const jwk = createPublicKey(parsed.signingKey).export({ format: 'jwk' });
    expect(jwk.crv).toBe('P-256');
  });

  it('accepts a scalar whose leading zero byte was dropped', () => {
    // One key in 256 has a leading zero byte; build one instead of hoping for it.
    const scalar = Buffer.alloc(32, 7);
    scalar[0] = 0;
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(scalar);
    const pair = {
      publicKey: ecdh.getPublicKey().toString('base64url'),
      privateKey: scalar.subarray(1).toString('base64url'),
    };
    expect(parseVapidKeys(pair).privateKey).toEqual(scalar);
  });

  it.each([
    ['halves that do not belong together', () => ({ publicKey: generateVapidKeys().publicKey, privateKey: generateVapidKeys().privateKey })],
    ['a private key that is not base64', () => ({ publicKey: generateVapidKeys().publicKey, privateKey: '***' })],
    ['a private key that is too long', () => ({ ...generateVapidKeys(), privateKey: Buffer.alloc(33, 1).toString('base64url') })],
    ['a zero private key', () => ({ ...generateVapidKeys(), privateKey: Buffer.alloc(32).toString('base64url') })],
    ['a public key off the curve', () => {
      const pair = generateVapidKeys();
      const point = Buffer.from(pair.publicKey, 'base64url');
      point[64] ^= 1;
      return { ...pair, publicKey: point.toString('base64url') };
    }],
  ])('refuses %s with ERR_VAPID_INVALID_KEY', (_label, make) => {
    expect(codeOf(() => parseVapidKeys(make()))).toBe('ERR_VAPID_INVALID_KEY');
  });
});

describe('oneShotKeySource', () => {
  it('draws a new key pair each time, each agreeing with the browser for the message it serves', () => {
    const browser = createECDH('prime256v1');
    const uaPublic = browser.generateKeys();
    const authSecret = Buffer.alloc(16, 7);
    const draw = oneShotKeySource();
    const publicKeys = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const senderKeys = draw();
      publicKeys.add(senderKeys.publicKey.toString('hex'));
      const plaintext = Buffer.from(`message ${i}`);
      const body = encryptAes128gcm({ plaintext, uaPublic, authSecret, salt: Buffer.alloc(16, i), senderKeys });
      // http_ece derives the secret from the key in the header: the drawn pair's two halves belong together.
      expect(ece.decrypt(body, { version: 'aes128gcm', privateKey: browser, authSecret }).toString()).toBe(`message ${i}`);
    }
    expect(publicKeys.size).toBe(5);
  });
});
