/**
 * Errors thrown by the Web Push modules. Each carries a stable `code`; the HTTP edge maps codes to
 * statuses (SPEC §8.2: the ERR_SUBSCRIPTION_* codes answer 422), the worker and start-up code map
 * the others. Push code never knows HTTP statuses of our own API.
 */

/** Every code a push module may throw, with what it means. A test checks this list is complete. */
export const PUSH_ERROR_CODES = {
  ERR_SUBSCRIPTION_INVALID_ENDPOINT:
    'the push endpoint is not an acceptable URL (SPEC §8.2, §12 "Endpoint checks")',
  ERR_SUBSCRIPTION_INVALID_KEY: 'the p256dh key is not a valid uncompressed P-256 point',
  ERR_SUBSCRIPTION_INVALID_AUTH: 'the auth secret does not decode to exactly 16 bytes',
  ERR_PUSH_PAYLOAD_TOO_LARGE: 'the plaintext does not fit in a single 4096-byte push record',
  ERR_PUSH_INVALID_OPTION: 'a push request option (TTL, Urgency, Topic, keys) is malformed',
  ERR_VAPID_INVALID_KEY: 'the VAPID key pair is malformed or the halves do not match',
  ERR_VAPID_INVALID_SUBJECT: 'the VAPID subject is not a mailto: address or a public https: URL',
  ERR_PUSH_ALLOW_LIST_INVALID: 'an entry of HERALD_PUSH_ALLOW_PRIVATE is not a host, IP or CIDR',
} as const;

export type PushErrorCode = keyof typeof PUSH_ERROR_CODES;

export class PushError extends Error {
  readonly code: PushErrorCode;

  constructor(code: PushErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PushError';
    this.code = code;
  }
}

export function isPushError(error: unknown): error is PushError {
  return error instanceof PushError;
}
