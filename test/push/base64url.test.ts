import { describe, expect, it } from 'vitest';

import { decodeSubscriptionKey, fromBase64Url, toBase64Url, toBase64UrlPadded } from '../../src/push/base64url.js';

// Bytes chosen so that standard and url-safe forms differ (0xfb 0xff → "+/" vs "-_").
const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0x00, 0x10]);

describe('toBase64Url', () => {
  it('emits the url-safe alphabet without padding', () => {
    expect(toBase64Url(bytes)).toBe('-_-_ABA');
  });

  it('honours the view of a Uint8Array into a larger buffer', () => {
    const big = Buffer.from([1, 2, 3, 4, 5]);
    expect(toBase64Url(big.subarray(1, 3))).toBe(Buffer.from([2, 3]).toString('base64url'));
  });

  it('pads for the server_key form of SPEC §8.1', () => {
    expect(toBase64UrlPadded(bytes)).toBe('-_-_ABA=');
    expect(toBase64UrlPadded(Buffer.alloc(65, 1)).length % 4).toBe(0);
  });
});

describe('fromBase64Url', () => {
  it.each([
    ['-_-_ABA', bytes],
    ['-_-_ABA=', bytes],
    ['', Buffer.alloc(0)],
  ])('decodes %j', (text, expected) => {
    expect(fromBase64Url(text)).toEqual(expected);
  });

  it.each(['+/+/ABA', '-_-_AB A', '-_-_ABA==', 'A', '-_-_A=BA', 'AB=C'])('refuses %j', (text) => {
    expect(fromBase64Url(text)).toBeNull();
  });
});

describe('decodeSubscriptionKey (SPEC §8.2: url-safe or standard, padding optional)', () => {
  it.each([
    ['url-safe, no padding', '-_-_ABA'],
    ['url-safe, padded', '-_-_ABA='],
    ['standard, no padding', '+/+/ABA'],
    ['standard, padded', '+/+/ABA='],
  ])('accepts %s', (_label, text) => {
    expect(decodeSubscriptionKey(text)).toEqual(bytes);
  });

  it.each([
    ['a mix of both alphabets', '-/+_ABA'],
    ['whitespace', ' -_-_ABA'],
    ['a newline inside', '-_-_\nABA'],
    ['too much padding', '-_-_ABA=='],
    ['padding in the middle', '-_-=_ABA'],
    ['a length no byte string has', 'AAAAA'],
    ['foreign characters', '-_-_AB*'],
    ['a lone "="', '='],
  ])('refuses %s', (_label, text) => {
    expect(decodeSubscriptionKey(text)).toBeNull();
  });
});
