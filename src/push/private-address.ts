/**
 * Which push endpoints we may talk to (SPEC §8.2, §8.7, §12 "Endpoint checks"). A push endpoint is
 * a URL chosen by whoever holds a token, and we POST to it: without these checks it is an SSRF hole
 * into the operator's network (cloud metadata at 169.254.169.254, admin ports on loopback …).
 *
 * Two moments: at subscribe time validatePushEndpoint checks the URL and any IP literal in it; at
 * connect time the sender calls isAllowedAddress on every resolved address, so a name that
 * resolves (or later rebinds) to a private address is still refused.
 */
import { domainToASCII } from 'node:url';

import { cidr, embeddedIPv4, inRange, parseCidr, parseIp, type CidrRange, type IpAddress } from './ip-address.js';
import { PushError } from './push-errors.js';

export const MAX_ENDPOINT_LENGTH = 2048;

/** Loopback, RFC 1918, link-local, CGNAT, unspecified, multicast, and other never-public IPv4. */
const PRIVATE_V4 = [
  '0.0.0.0/8', // "this network", includes the unspecified 0.0.0.0
  '10.0.0.0/8', // RFC 1918
  '100.64.0.0/10', // RFC 6598 carrier-grade NAT
  '127.0.0.0/8', // loopback
  '169.254.0.0/16', // link-local, cloud metadata services
  '172.16.0.0/12', // RFC 1918
  '192.0.0.0/24', // IETF protocol assignments
  '192.168.0.0/16', // RFC 1918
  '198.18.0.0/15', // benchmarking, used inside some data centres
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and 255.255.255.255 broadcast
].map(cidr);

const PRIVATE_V6 = [
  '::/128', // unspecified
  '::1/128', // loopback
  'fe80::/10', // link-local
  'fec0::/10', // deprecated site-local, still routed inside some networks
  'fc00::/7', // unique-local
  'ff00::/8', // multicast
].map(cidr);

/** IPv4-mapped: ::ffff:127.0.0.1, also written ::ffff:7f00:1. */
const IPV4_MAPPED = cidr('::ffff:0:0/96');

/** IPv6 forms that carry IPv4 addresses, judged by every address they carry. */
const EMBEDS_V4: readonly { range: CidrRange; carried: (ip: IpAddress) => IpAddress[] }[] = [
  { range: IPV4_MAPPED, carried: (ip) => [embeddedIPv4(ip)] },
  // IPv4-compatible, deprecated (::127.0.0.1); :: and ::1 are matched above first.
  { range: cidr('::/96'), carried: (ip) => [embeddedIPv4(ip)] },
  // NAT64 well-known prefix: the gateway forwards to the embedded address.
  { range: cidr('64:ff9b::/96'), carried: (ip) => [embeddedIPv4(ip)] },
  // 6to4 (RFC 3056): a relay forwards to the IPv4 address in bits 16–47.
  { range: cidr('2002::/16'), carried: (ip) => [embeddedIPv4(ip, 2)] },
  // Teredo (RFC 4380): the server's address in bits 32–63, the client's, inverted, in the last 32.
  { range: cidr('2001::/32'), carried: (ip) => [embeddedIPv4(ip, 4), embeddedIPv4(ip, 12, 0xff)] },
];

/** Names that are local by definition (RFC 6761 .localhost, mDNS .local, cloud .internal). */
function isForbiddenName(host: string): boolean {
  return host === 'localhost' || ['.localhost', '.local', '.internal'].some((suffix) => host.endsWith(suffix));
}

export interface AllowList {
  /** Exact host names, lower-case ASCII without a trailing dot. */
  readonly hosts: ReadonlySet<string>;
  readonly ranges: readonly CidrRange[];
}

export const EMPTY_ALLOW_LIST: AllowList = { hosts: new Set(), ranges: [] };

/**
 * Parses HERALD_PUSH_ALLOW_PRIVATE: comma-separated host names, IPs ([::1] brackets allowed) and
 * CIDR ranges. A bad entry throws ERR_PUSH_ALLOW_LIST_INVALID naming it, to stop start-up.
 */
export function parseAllowList(setting: string | null | undefined): AllowList {
  const hosts = new Set<string>();
  const ranges: CidrRange[] = [];
  for (const raw of (setting ?? '').split(',')) {
    const entry = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (entry === '') continue;
    const range = parseCidr(entry);
    if (range !== null) {
      ranges.push(range);
      continue;
    }
    const host = normalizeHostName(entry);
    if (host === null || entry.includes('/')) {
      throw new PushError(
        'ERR_PUSH_ALLOW_LIST_INVALID',
        `HERALD_PUSH_ALLOW_PRIVATE: "${raw.trim()}" is not a host name, IP address or CIDR range`,
      );
    }
    hosts.add(host);
  }
  return { hosts, ranges };
}

/** Private per SPEC §12. An unparseable address counts as private: refuse what we cannot judge. */
export function isPrivateAddress(ip: string): boolean {
  const parsed = parseIp(ip);
  return parsed === null || isPrivateIp(parsed);
}

function isPrivateIp(ip: IpAddress): boolean {
  if (ip.family === 4) return PRIVATE_V4.some((range) => inRange(ip, range));
  if (PRIVATE_V6.some((range) => inRange(ip, range))) return true;
  const embedding = EMBEDS_V4.find(({ range }) => inRange(ip, range));
  return embedding !== undefined && embedding.carried(ip).some(isPrivateIp);
}

/**
 * For the connect-time check: may we connect to this resolved address? Public addresses yes;
 * private ones only when the address is allow-listed or the host name being resolved is.
 */
export function isAllowedAddress(ip: string, allowList: AllowList, hostname?: string): boolean {
  if (!isPrivateAddress(ip)) return true;
  if (hostname !== undefined) {
    const host = normalizeHostName(hostname);
    if (host !== null && allowList.hosts.has(host)) return true;
  }
  return isAllowListedIp(ip, allowList);
}

function isAllowListedIp(ip: string, allowList: AllowList): boolean {
  const parsed = parseIp(ip);
  if (parsed === null) return false;
  // An allow-listed 127.0.0.1 also covers ::ffff:127.0.0.1, which is how dual-stack sockets show it.
  const forms = parsed.family === 6 && inRange(parsed, IPV4_MAPPED) ? [parsed, embeddedIPv4(parsed)] : [parsed];
  return forms.some((form) => allowList.ranges.some((range) => inRange(form, range)));
}

/**
 * Checks a subscription endpoint (SPEC §8.2) and returns it parsed. Throws
 * ERR_SUBSCRIPTION_INVALID_ENDPOINT with a message fit for the 422 answer.
 */
export function validatePushEndpoint(endpoint: string, allowList: AllowList): URL {
  const refuse = (why: string): PushError => new PushError('ERR_SUBSCRIPTION_INVALID_ENDPOINT', `endpoint ${why}`);
  if (typeof endpoint !== 'string' || endpoint === '') throw refuse('is missing');
  if (endpoint.length > MAX_ENDPOINT_LENGTH) throw refuse(`is longer than ${MAX_ENDPOINT_LENGTH} characters`);
  let url: URL;
  try {
    // WHATWG parsing, as the sender's HTTP client will do: https://167772161/ is 10.0.0.1 here too.
    url = new URL(endpoint);
  } catch {
    throw refuse('is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse('must be an https URL');
  if (url.username !== '' || url.password !== '') throw refuse('must not contain credentials');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (host === '') throw refuse('has no host');

  const ip = parseIp(host);
  const allowListed = ip !== null ? isAllowListedIp(host, allowList) : allowList.hosts.has(host);
  if (url.protocol === 'http:' && !allowListed) {
    throw refuse('must be an https URL (plain http is allowed only for hosts in HERALD_PUSH_ALLOW_PRIVATE)');
  }
  if (allowListed) return url;
  if (ip !== null && isPrivateIp(ip)) throw refuse(`host ${url.hostname} is a private, loopback or link-local address`);
  if (ip === null && isForbiddenName(host)) throw refuse(`host ${url.hostname} is a local name`);
  return url;
}

/** Lower-case ASCII (punycode) host name without a trailing dot, or null if it is not one. */
function normalizeHostName(name: string): string | null {
  const ascii = domainToASCII(name.replace(/\.$/, '')).toLowerCase();
  return ascii !== '' && /^[a-z0-9_.-]+$/.test(ascii) ? ascii : null;
}
