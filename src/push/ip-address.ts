/**
 * IP addresses as bytes, and CIDR ranges over them: the arithmetic under the private-address
 * checks. Hand-rolled rather than net.BlockList so that IPv6 forms carrying IPv4 (mapped, NAT64,
 * 6to4, Teredo) can be unwrapped explicitly and the same matcher serves both the built-in ranges
 * and the operator's allow-list.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  bytes: Uint8Array;
}

export interface CidrRange {
  family: 4 | 6;
  /** The network address, host bits zeroed. */
  bytes: Uint8Array;
  prefix: number;
}

/** Parses a textual IP (dotted quad, or IPv6 with an optional %zone); null if it is not one. */
export function parseIp(text: string): IpAddress | null {
  if (isIPv4(text)) return { family: 4, bytes: Uint8Array.from(text.split('.').map(Number)) };
  const address = text.replace(/%.*$/, '');
  if (!isIPv6(address)) return null;
  const bytes = parseIPv6(address);
  return bytes === null ? null : { family: 6, bytes };
}

/** Expands '::' and a trailing dotted quad; input already checked by net.isIPv6. */
function parseIPv6(text: string): Uint8Array | null {
  const gap = text.indexOf('::');
  const split = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const head = split(gap === -1 ? text : text.slice(0, gap)).flatMap(toGroups);
  const tail = gap === -1 ? [] : split(text.slice(gap + 2)).flatMap(toGroups);
  const zeros = gap === -1 ? 0 : 8 - head.length - tail.length;
  const groups = [...head, ...new Array<number>(zeros).fill(0), ...tail];
  if (groups.length !== 8 || zeros < 0) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

function toGroups(part: string): number[] {
  if (!part.includes('.')) return [Number.parseInt(part, 16)];
  const [a, b, c, d] = part.split('.').map(Number);
  return [(a << 8) | b, (c << 8) | d];
}

/** Parses "10.0.0.0/8", "fc00::/7", or a bare address as a single-address range. */
export function parseCidr(text: string): CidrRange | null {
  if (text.includes('%')) return null; // a zone index names an interface, not a network
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === null) return null;
  const bits = ip.bytes.length * 8;
  const prefixText = slash === -1 ? String(bits) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > bits) return null;
  return { family: ip.family, bytes: maskTo(ip.bytes, prefix), prefix };
}

export function cidr(text: string): CidrRange {
  const range = parseCidr(text);
  if (range === null) throw new Error(`bad built-in CIDR ${text}`);
  return range;
}

export function inRange(ip: IpAddress, range: CidrRange): boolean {
  if (ip.family !== range.family) return false;
  const masked = maskTo(ip.bytes, range.prefix);
  return masked.every((byte, i) => byte === range.bytes[i]);
}

function maskTo(bytes: Uint8Array, prefix: number): Uint8Array {
  return bytes.map((byte, i) => {
    const keep = Math.min(8, Math.max(0, prefix - 8 * i));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
}

/** The IPv4 address in 4 bytes of an IPv6 one from `offset` (the last 4 by default), each XORed with `mask`. */
export function embeddedIPv4(ip: IpAddress, offset = 12, mask = 0): IpAddress {
  return { family: 4, bytes: ip.bytes.slice(offset, offset + 4).map((byte) => byte ^ mask) };
}
