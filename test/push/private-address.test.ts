import { describe, expect, it } from 'vitest';

import { parseCidr, parseIp } from '../../src/push/ip-address.js';
import {
  EMPTY_ALLOW_LIST,
  isAllowedAddress,
  isPrivateAddress,
  parseAllowList,
  validatePushEndpoint,
} from '../../src/push/private-address.js';
import { PushError } from '../../src/push/push-errors.js';

describe('isPrivateAddress (SPEC §12 "Endpoint checks")', () => {
  it.each([
    ['IPv4 loopback', '127.0.0.1'],
    ['IPv4 loopback, elsewhere in 127/8', '127.255.0.9'],
    ['IPv6 loopback', '::1'],
    ['RFC 1918 10/8', '10.1.2.3'],
    ['RFC 1918 172.16/12, low end', '172.16.0.1'],
    ['RFC 1918 172.16/12, high end', '172.31.255.254'],
    ['RFC 1918 192.168/16', '192.168.1.1'],
    ['link-local / cloud metadata', '169.254.169.254'],
    ['IPv6 link-local', 'fe80::1'],
    ['IPv6 link-local with zone', 'fe80::1%eth0'],
    ['unique-local fc00::/7 (fc)', 'fc00::1'],
    ['unique-local fc00::/7 (fd)', 'fd12:3456:789a::1'],
    ['CGNAT', '100.64.0.1'],
    ['CGNAT, high end', '100.127.255.255'],
    ['IPv4 unspecified', '0.0.0.0'],
    ['IPv6 unspecified', '::'],
    ['IPv4 multicast', '224.0.0.251'],
    ['IPv4 multicast, high end', '239.255.255.250'],
    ['IPv6 multicast', 'ff02::fb'],
    ['broadcast', '255.255.255.255'],
    ['IPv4-mapped loopback, dotted', '::ffff:127.0.0.1'],
    ['IPv4-mapped loopback, hex', '::ffff:7f00:1'],
    ['IPv4-mapped loopback, expanded', '0:0:0:0:0:ffff:7f00:1'],
    ['IPv4-mapped RFC 1918', '::ffff:10.0.0.1'],
    ['IPv4-mapped metadata', '::ffff:a9fe:a9fe'],
    ['IPv4-compatible loopback', '::127.0.0.1'],
    ['IPv4-compatible RFC 1918, hex', '::a00:1'],
    ['NAT64 to loopback', '64:ff9b::127.0.0.1'],
    ['6to4 of loopback', '2002:7f00:1::1'],
    ['6to4 of RFC 1918', '2002:c0a8:101::'],
    ['6to4 of the metadata address', '2002:a9fe:a9fe::1'],
    ['Teredo with a loopback client (inverted 127.0.0.1)', '2001:0:4136:e378:8000:63bf:80ff:fffe'],
    ['Teredo with an RFC 1918 client (inverted 10.0.0.1)', '2001:0:4136:e378:8000:63bf:f5ff:fffe'],
    ['Teredo with a private server', '2001:0:a00:1:8000:63bf:f7f7:f7f7'],
    ['deprecated site-local', 'fec0::1'],
    ['not an address at all', 'example.com'],
    ['an empty string', ''],
  ])('%s (%s) is private', (_label, ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each([
    ['a public IPv4', '8.8.8.8'],
    ['just past 172.16/12', '172.32.0.1'],
    ['just before 172.16/12', '172.15.255.255'],
    ['just past CGNAT', '100.128.0.1'],
    ['just before CGNAT', '100.63.255.255'],
    ['FCM', '142.250.74.42'],
    ['a public IPv6', '2a00:1450:4001:80e::200a'],
    ['IPv4-mapped public', '::ffff:8.8.8.8'],
    ['NAT64 to a public address', '64:ff9b::808:808'],
    ['6to4 of a public address', '2002:808:808::1'],
    ['Teredo with a public server and client (inverted 8.8.8.8)', '2001:0:4136:e378:8000:63bf:f7f7:f7f7'],
    ['2001:db8 written long-hand', '2001:0db8:0000:0000:0000:0000:0000:0001'],
  ])('%s (%s) is public', (_label, ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });
});

describe('ip-address helpers', () => {
  it('parses IPv6 forms to the same bytes', () => {
    const a = parseIp('::ffff:127.0.0.1');
    const b = parseIp('0:0:0:0:0:FFFF:7F00:0001');
    expect(a).not.toBeNull();
    expect(Buffer.from(a!.bytes)).toEqual(Buffer.from(b!.bytes));
  });

  it.each(['10.0.0.0/33', 'fc00::/129', '10.0.0.0/x', '10.0.0/8', 'fe80::1%eth0/64', '/8'])('refuses the range %j', (text) => {
    expect(parseCidr(text)).toBeNull();
  });

  it('zeroes host bits of a range', () => {
    expect(Array.from(parseCidr('10.1.2.3/8')!.bytes)).toEqual([10, 0, 0, 0]);
  });
});

describe('parseAllowList (HERALD_PUSH_ALLOW_PRIVATE)', () => {
  it('reads host names, IPs and CIDR ranges, ignoring blanks and spaces', () => {
    const list = parseAllowList(' push.test , 127.0.0.1,10.20.0.0/16 ,, [::1], fd00::/8, Receiver.Local. ');
    expect([...list.hosts]).toEqual(['push.test', 'receiver.local']);
    expect(list.ranges).toHaveLength(4);
  });

  it('reads an unset or empty setting as an empty list', () => {
    expect(parseAllowList(undefined)).toEqual(EMPTY_ALLOW_LIST);
    expect(parseAllowList('')).toEqual(EMPTY_ALLOW_LIST);
  });

  it.each(['10.0.0.0/40', 'http://localhost', 'a b', 'host/8', '*.example'])('refuses %j, naming the setting', (entry) => {
    expect(() => parseAllowList(`localhost,${entry}`)).toThrow(PushError);
    expect(() => parseAllowList(entry)).toThrow(/HERALD_PUSH_ALLOW_PRIVATE/);
    try {
      parseAllowList(entry);
    } catch (error) {
      expect((error as PushError).code).toBe('ERR_PUSH_ALLOW_LIST_INVALID');
    }
  });
});

describe('isAllowedAddress (connect time)', () => {
  const list = parseAllowList('receiver.test, 127.0.0.1, 10.9.0.0/16, fd00::/8');

  it.each([
    ['a public address, whatever the list', '8.8.8.8', undefined, true],
    ['an allow-listed IP', '127.0.0.1', undefined, true],
    ['an allow-listed IP, seen as IPv4-mapped', '::ffff:127.0.0.1', undefined, true],
    ['an address in an allow-listed IPv4 range', '10.9.3.4', undefined, true],
    ['an address in an allow-listed IPv6 range', 'fd00::5', undefined, true],
    ['any address of an allow-listed host name', '192.168.7.7', 'receiver.test', true],
    ['an allow-listed host name with a trailing dot', '192.168.7.7', 'RECEIVER.test.', true],
    ['a private address outside the list', '10.8.0.1', undefined, false],
    ['another loopback address', '127.0.0.2', undefined, false],
    ['IPv6 loopback when only 127.0.0.1 is listed', '::1', undefined, false],
    ['a private address of another host', '192.168.7.7', 'evil.example', false],
  ])('%s', (_label, ip, hostname, allowed) => {
    expect(isAllowedAddress(ip, list, hostname)).toBe(allowed);
  });

  it('refuses every private address with an empty list', () => {
    expect(isAllowedAddress('169.254.169.254', EMPTY_ALLOW_LIST)).toBe(false);
  });
});

describe('validatePushEndpoint (SPEC §8.2)', () => {
  function refusal(endpoint: string, list = EMPTY_ALLOW_LIST): string {
    try {
      validatePushEndpoint(endpoint, list);
    } catch (error) {
      expect(error).toBeInstanceOf(PushError);
      expect((error as PushError).code).toBe('ERR_SUBSCRIPTION_INVALID_ENDPOINT');
      return (error as PushError).message;
    }
    throw new Error(`${endpoint} was accepted`);
  }

  it.each([
    'https://fcm.googleapis.com/fcm/send/abc:def',
    'https://updates.push.services.mozilla.com/wpush/v2/gAAAAA',
    'https://web.push.apple.com/QGuXm',
    'https://wns2-par02p.notify.windows.com/w/?token=BQYAAA',
    'https://8.8.8.8/push',
    'https://[2a00:1450:4001:80e::200a]/push',
    'https://push.example.org:8443/x',
  ])('accepts %s', (endpoint) => {
    expect(validatePushEndpoint(endpoint, EMPTY_ALLOW_LIST)).toBeInstanceOf(URL);
  });

  it.each([
    ['loopback', 'https://127.0.0.1/push', /private/],
    ['IPv6 loopback', 'https://[::1]/push', /private/],
    ['10/8', 'https://10.0.0.1/push', /private/],
    ['172.16/12', 'https://172.20.1.1/push', /private/],
    ['192.168/16', 'https://192.168.0.10/push', /private/],
    ['cloud metadata', 'https://169.254.169.254/latest/meta-data', /private/],
    ['unique-local', 'https://[fd00::1]/', /private/],
    ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/', /private/],
    ['IPv4-compatible loopback', 'https://[::127.0.0.1]/', /private/],
    ['a decimal IPv4 (WHATWG: 10.0.0.1)', 'https://167772161/', /private/],
    ['a hex IPv4 (WHATWG: 127.0.0.1)', 'https://0x7f.1/', /private/],
    ['CGNAT', 'https://100.64.0.1/', /private/],
    ['unspecified', 'https://0.0.0.0/', /private/],
    ['multicast', 'https://224.0.0.1/', /private/],
    ['localhost', 'https://localhost/push', /local name/],
    ['LOCALHOST with a trailing dot', 'https://LOCALHOST./push', /local name/],
    ['*.localhost', 'https://api.localhost/push', /local name/],
    ['*.local', 'https://printer.local/push', /local name/],
    ['*.internal', 'https://metadata.google.internal/computeMetadata', /local name/],
    ['plain http', 'http://fcm.googleapis.com/fcm/send/x', /https/],
    ['another scheme', 'ftp://push.example.org/x', /https/],
    ['javascript:', 'javascript:alert(1)', /https/],
    ['a relative URL', '/api/v1/push', /absolute/],
    ['no scheme', 'fcm.googleapis.com/fcm/send/x', /absolute/],
    ['an empty string', '', /missing/],
    ['credentials', 'https://user:pw@push.example.org/x', /credentials/],
    ['too long', `https://push.example.org/${'a'.repeat(2048)}`, /2048/],
  ])('refuses %s', (_label, endpoint, message) => {
    expect(refusal(endpoint)).toMatch(message);
  });

  it('accepts exactly 2048 characters', () => {
    const base = 'https://push.example.org/';
    expect(() => validatePushEndpoint(base + 'a'.repeat(2048 - base.length), EMPTY_ALLOW_LIST)).not.toThrow();
  });

  describe('with an allow-list', () => {
    const list = parseAllowList('localhost, 127.0.0.1, 10.9.0.0/16, receiver.test, ::1');

    it.each([
      'http://localhost:4000/push/1',
      'https://localhost/push/1',
      'http://127.0.0.1:4000/push/1',
      'http://[::1]:4000/push',
      'http://[::ffff:127.0.0.1]:4000/push',
      'https://10.9.8.7/push',
      'http://receiver.test/push',
      'https://2130706433/push', // 127.0.0.1 in decimal, allow-listed after WHATWG parsing
    ])('accepts %s', (endpoint) => {
      expect(() => validatePushEndpoint(endpoint, list)).not.toThrow();
    });

    it.each([
      ['plain http to a host not listed', 'http://fcm.googleapis.com/x', /https/],
      ['plain http to a private IP not listed', 'http://10.8.0.1/x', /https/],
      ['a private IP not listed', 'https://10.8.0.1/x', /private/],
      ['another local name', 'https://other.localhost/x', /local name/],
      ['another loopback address', 'https://127.0.0.2/x', /private/],
    ])('still refuses %s', (_label, endpoint, message) => {
      expect(refusal(endpoint, list)).toMatch(message);
    });
  });
});
