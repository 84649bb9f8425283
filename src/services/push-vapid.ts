// Start-up checks of the push settings (SPEC §8.3, §11): the VAPID subject, the key pair, the
// allow-list. A bad explicit setting stops start-up with a message naming it; a default that Apple
// would refuse (derived from a local public URL) only warns, since a test bed needs no Apple.
import { ConfigError, type Config } from '../config.js';
import { parseAllowList, type AllowList } from '../push/private-address.js';
import { isPushError } from '../push/push-errors.js';
import { checkVapidSubject } from '../push/vapid-subject.js';
import { createVapidSigner, type VapidSigner } from '../push/vapid.js';

export interface VapidSubject {
  readonly subject: string;
  /** Set when the derived default would be refused by some push services. */
  readonly warning?: string;
}

export function resolveVapidSubject(config: Config): VapidSubject {
  if (config.vapidSubject !== undefined) {
    const check = checkVapidSubject(config.vapidSubject);
    if (!check.ok) {
      throw new ConfigError(
        'HERALD_VAPID_SUBJECT',
        `${check.reason}; set it to a mailto: address (mailto:ops@example.org) or an https: URL of a public host`,
      );
    }
    return { subject: config.vapidSubject };
  }
  const subject = `https://${new URL(config.publicUrl).hostname}`;
  const check = checkVapidSubject(subject);
  if (check.ok) return { subject };
  return {
    subject,
    warning:
      `the VAPID subject defaults to ${subject} (from HERALD_PUBLIC_URL): ${check.reason}. ` +
      'Fine for a test bed; set HERALD_VAPID_SUBJECT to a mailto: address or a public https: URL before serving iOS devices',
  };
}

/** The signer for a stored or configured key pair; a pair that does not parse stops start-up. */
export function createConfiguredSigner(
  keys: { publicKey: string; privateKey: string },
  subject: string,
  now: () => number,
): VapidSigner {
  try {
    return createVapidSigner({ ...keys, subject, now });
  } catch (error) {
    if (!isPushError(error)) throw error;
    throw new ConfigError('HERALD_VAPID_PRIVATE_KEY', `${error.message} (generate a pair with "herald vapid generate")`);
  }
}

export function parseConfiguredAllowList(config: Config): AllowList {
  try {
    return parseAllowList(config.pushAllowPrivate.join(','));
  } catch (error) {
    if (!isPushError(error)) throw error;
    throw new ConfigError('HERALD_PUSH_ALLOW_PRIVATE', error.message.replace(/^HERALD_PUSH_ALLOW_PRIVATE: /, ''));
  }
}
