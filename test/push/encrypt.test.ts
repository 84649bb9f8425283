import { createECDH, randomBytes, type ECDH } from 'node:crypto';

import ece from 'http_ece';
import { describe, expect, it } from 'vitest';

import { encryptAes128gcm, AES128GCM_MAX_PLAINTEXT } from '../../src/push/encrypt-aes128gcm.js';
import { encryptAesgcm, AESGCM_MAX_PLAINTEXT } from '../../src/push/encrypt-aesgcm.js';
import { PushError } from '../../src/push/push-errors.js';

const b64 = (text: string): Buffer => Buffer.from(text, 'base64url');

/** RFC 8291 Appendix A (also reproduced in RFC 8291 §5). */
const RFC = {
  plaintext: Buffer.from('When I grow up, I want to be a watermelon'),
  asPublic: b64('BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8'),
  asPrivate: b64('yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw'),
  uaPublic: b64('BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4'),
  uaPrivate: b64('q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94'),
  authSecret: b64('BTBZMqHH6r4Tts7J_aSIgg'),
  salt: b64('DGv6ra1nlYgDCS1FRnbzlw'),
  body:
    'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6Tlz' +
    'AC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
};

function newKey(): ECDH {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return ecdh;
}

/** A node ECDH key as the key factory hands one out (keys.ts createEphemeralKey). */
const asSender = (ecdh: ECDH) => ({ ecdh, publicKey: ecdh.getPublicKey() });

/** A browser's side of a subscription: its key pair and auth secret. */
function browser(): { ecdh: ECDH; uaPublic: Buffer; authSecret: Buffer } {
  const ecdh = newKey();
  return { ecdh, uaPublic: ecdh.getPublicKey(), authSecret: randomBytes(16) };
}

describe('aes128gcm (RFC 8291)', () => {
  it('reproduces the RFC 8291 Appendix A message byte for byte', () => {
    const body = encryptAes128gcm({
      plaintext: RFC.plaintext,
      uaPublic: RFC.uaPublic,
      authSecret: RFC.authSecret,
      salt: RFC.salt,
      senderKeys: { publicKey: RFC.asPublic, privateKey: RFC.asPrivate },
    });
    expect(body.toString('base64url')).toBe(RFC.body);
  });

  it('gives the same bytes with the sender key as the key factory makes it', () => {
    const sender = createECDH('prime256v1');
    sender.setPrivateKey(RFC.asPrivate);
    const body = encryptAes128gcm({ ...RFC, senderKeys: asSender(sender) });
    expect(body.toString('base64url')).toBe(RFC.body);
  });

  it('is decrypted by http_ece with the RFC receiver key', () => {
    const receiver = createECDH('prime256v1');
    receiver.setPrivateKey(RFC.uaPrivate);
    const plain = ece.decrypt(b64(RFC.body), { version: 'aes128gcm', privateKey: receiver, authSecret: RFC.authSecret });
    expect(plain.toString()).toBe(RFC.plaintext.toString());
  });

  it('is decrypted by http_ece for fresh keys, multibyte text, and the largest plaintext', () => {
    for (const plaintext of [Buffer.from('{"title":"Ünïcödé 🍉"}'), randomBytes(AES128GCM_MAX_PLAINTEXT), Buffer.alloc(0)]) {
      const ua = browser();
      const body = encryptAes128gcm({ plaintext, uaPublic: ua.uaPublic, authSecret: ua.authSecret, salt: randomBytes(16), senderKeys: asSender(newKey()) });
      expect(body.length).toBeLessThanOrEqual(4096);
      const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: ua.ecdh, authSecret: ua.authSecret });
      expect(plain.equals(plaintext)).toBe(true);
    }
  });

  it('decrypts with a keymap lookup by key id, as a receiver that keeps several keys does', () => {
    const ua = browser();
    const body = encryptAes128gcm({ plaintext: Buffer.from('hi'), uaPublic: ua.uaPublic, authSecret: ua.authSecret, salt: randomBytes(16), senderKeys: asSender(newKey()) });
    // http_ece's webpush mode reads the sender key from the header's keyid (RFC 8291 §4).
    const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: ua.ecdh, authSecret: ua.authSecret.toString('base64url') });
    expect(plain.toString()).toBe('hi');
  });

  it('matches, byte for byte, what web-push gets from http_ece for the same salt and keys', () => {
    // web-push's encryption-helper calls ece.encrypt({version, dh, privateKey, salt, authSecret})
    // with base64url strings for the subscription keys and salt; do the same with fixed randomness.
    const ua = browser();
    const sender = newKey();
    const salt = randomBytes(16);
    const plaintext = Buffer.from('{"notification_id":1}');
    const theirs = ece.encrypt(plaintext, {
      version: 'aes128gcm',
      dh: ua.uaPublic.toString('base64url'),
      privateKey: sender,
      salt: salt.toString('base64url'),
      authSecret: ua.authSecret.toString('base64url'),
    });
    const ours = encryptAes128gcm({ plaintext, uaPublic: ua.uaPublic, authSecret: ua.authSecret, salt, senderKeys: asSender(sender) });
    expect(ours.equals(theirs)).toBe(true);
  });

  it('refuses a plaintext that would not fit one 4096-byte record', () => {
    const ua = browser();
    const input = { plaintext: Buffer.alloc(AES128GCM_MAX_PLAINTEXT + 1), uaPublic: ua.uaPublic, authSecret: ua.authSecret, salt: randomBytes(16), senderKeys: asSender(newKey()) };
    expect(AES128GCM_MAX_PLAINTEXT).toBe(3993);
    expect(() => encryptAes128gcm(input)).toThrow(expect.objectContaining({ code: 'ERR_PUSH_PAYLOAD_TOO_LARGE' }));
  });

  it.each([
    ['an off-curve receiver key', { uaPublic: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]) }, 'ERR_SUBSCRIPTION_INVALID_KEY'],
    ['a short receiver key', { uaPublic: RFC.uaPublic.subarray(0, 33) }, 'ERR_SUBSCRIPTION_INVALID_KEY'],
    ['a 12-byte auth secret', { authSecret: Buffer.alloc(12) }, 'ERR_SUBSCRIPTION_INVALID_AUTH'],
    ['an 8-byte salt', { salt: Buffer.alloc(8) }, 'ERR_PUSH_INVALID_OPTION'],
    ['a zero sender private key', { senderKeys: { publicKey: RFC.asPublic, privateKey: Buffer.alloc(32) } }, 'ERR_PUSH_INVALID_OPTION'],
    ['sender halves that do not match', { senderKeys: { publicKey: RFC.uaPublic, privateKey: RFC.asPrivate } }, 'ERR_PUSH_INVALID_OPTION'],
  ])('refuses %s', (_label, change, code) => {
    const input = { plaintext: RFC.plaintext, uaPublic: RFC.uaPublic, authSecret: RFC.authSecret, salt: RFC.salt, senderKeys: { publicKey: RFC.asPublic, privateKey: RFC.asPrivate }, ...change };
    let thrown: unknown;
    try {
      encryptAes128gcm(input);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PushError);
    expect((thrown as PushError).code).toBe(code);
  });
});

describe('aesgcm (draft-ietf-webpush-encryption-04)', () => {
  function encryptFor(plaintext: Buffer) {
    const ua = browser();
    const sender = newKey();
    const salt = randomBytes(16);
    const message = encryptAesgcm({ plaintext, uaPublic: ua.uaPublic, authSecret: ua.authSecret, salt, senderKeys: asSender(sender) });
    return { ua, sender, salt, message };
  }

  it('is decrypted by http_ece given the Crypto-Key dh and Encryption salt values', () => {
    for (const plaintext of [Buffer.from('{"title":"Ünïcödé 🍉"}'), randomBytes(AESGCM_MAX_PLAINTEXT), Buffer.alloc(0)]) {
      const { ua, sender, salt, message } = encryptFor(plaintext);
      expect(message.senderPublic.equals(sender.getPublicKey())).toBe(true);
      expect(message.salt.equals(salt)).toBe(true);
      expect(message.body.length).toBe(plaintext.length + 2 + 16);
      const plain = ece.decrypt(message.body, {
        version: 'aesgcm',
        privateKey: ua.ecdh,
        dh: message.senderPublic.toString('base64url'),
        salt: message.salt.toString('base64url'),
        authSecret: ua.authSecret.toString('base64url'),
      });
      expect(plain.equals(plaintext)).toBe(true);
    }
  });

  it('matches, byte for byte, what http_ece makes for the same salt and keys', () => {
    const ua = browser();
    const sender = newKey();
    const salt = randomBytes(16);
    const plaintext = Buffer.from('{"notification_id":2}');
    const theirs = ece.encrypt(plaintext, { version: 'aesgcm', dh: ua.uaPublic, privateKey: sender, salt, authSecret: ua.authSecret });
    const ours = encryptAesgcm({ plaintext, uaPublic: ua.uaPublic, authSecret: ua.authSecret, salt, senderKeys: asSender(sender) });
    expect(ours.body.equals(theirs)).toBe(true);
  });

  it('fits a 4096-byte body at most, and refuses more plaintext', () => {
    expect(AESGCM_MAX_PLAINTEXT).toBe(4078);
    expect(encryptFor(Buffer.alloc(AESGCM_MAX_PLAINTEXT)).message.body.length).toBe(4096);
    expect(() => encryptFor(Buffer.alloc(AESGCM_MAX_PLAINTEXT + 1))).toThrow(
      expect.objectContaining({ code: 'ERR_PUSH_PAYLOAD_TOO_LARGE' }),
    );
  });

  it('does not decrypt with the wrong auth secret (the secret is really mixed in)', () => {
    const { ua, message } = encryptFor(Buffer.from('secret'));
    expect(() =>
      ece.decrypt(message.body, { version: 'aesgcm', privateKey: ua.ecdh, dh: message.senderPublic, salt: message.salt, authSecret: randomBytes(16) }),
    ).toThrow();
  });
});
