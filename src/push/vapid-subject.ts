/**
 * The VAPID `sub` claim check of SPEC §8.3. RFC 8292 §2.1 asks for a mailto: or https: contact;
 * Apple's push service goes further and refuses (403 BadJwtToken) subjects on local names, which
 * silently kills every iOS subscription, so we check before start-up rather than after.
 */
import { isIP } from 'node:net';

export type VapidSubjectCheck = { ok: true } | { ok: false; reason: string };

/** Names that never denote a public contact (RFC 6761 special-use names and mDNS). */
const LOCAL_SUFFIXES = ['.localhost', '.local', '.invalid'];

/**
 * Whether `subject` is acceptable. Returns the reason rather than throwing because the caller
 * decides the severity: an explicit setting stops start-up, a derived default only warns.
 */
export function checkVapidSubject(subject: string): VapidSubjectCheck {
  if (typeof subject !== 'string' || subject.trim() === '') {
    return { ok: false, reason: 'the subject is empty' };
  }
  if (subject.startsWith('mailto:')) {
    const address = subject.slice('mailto:'.length);
    const at = address.lastIndexOf('@');
    if (at <= 0 || at === address.length - 1 || /[\s<>]/.test(address)) {
      return { ok: false, reason: `"${subject}" is not a mailto: address (expected mailto:name@example.org)` };
    }
    return checkHost(address.slice(at + 1), subject);
  }
  let url: URL;
  try {
    url = new URL(subject);
  } catch {
    return { ok: false, reason: `"${subject}" is neither a mailto: address nor an https: URL` };
  }
  if (url.protocol !== 'https:') {
    return { ok: false, reason: `"${subject}" must use https: or mailto: (RFC 8292 §2.1)` };
  }
  return checkHost(url.hostname, subject);
}

function checkHost(rawHost: string, subject: string): VapidSubjectCheck {
  const host = rawHost.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
  if (host === '') return { ok: false, reason: `"${subject}" has no host` };
  const local =
    host === 'localhost' ||
    LOCAL_SUFFIXES.some((suffix) => host.endsWith(suffix)) ||
    (isIP(host) !== 0 && isLoopbackLiteral(host));
  if (local) {
    return { ok: false, reason: `"${subject}" names a local host, which Apple's push service refuses` };
  }
  return { ok: true };
}

function isLoopbackLiteral(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}
