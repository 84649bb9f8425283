/**
 * Retry timing for push deliveries (SPEC §8.7, §12 "Retries"). Rules as parameters, in the manner
 * of undici's retry handler: exponential backoff with jitter, a cap, and `Retry-After` honoured
 * when it asks for longer. Pure: the random number and the clock are inputs.
 */

/** SPEC §8.7: up to 5 retries after the first attempt. */
export const MAX_RETRIES = 5;
/** SPEC §12: every wait, computed or asked for, is capped at one hour. */
export const MAX_BACKOFF_MS = 60 * 60 * 1000;
/** ±25 % so that deliveries failed together (a push service outage) do not return together. */
export const JITTER_FRACTION = 0.25;

export interface BackoffInput {
  /** Which retry this is, 1 for the first retry. */
  retry: number;
  /** HERALD_PUSH_RETRY_BASE_MS. */
  baseMs: number;
  /** A number in [0, 1). */
  random: number;
  /** The push service's `Retry-After`, as a delay in ms (see parseRetryAfter), if any. */
  retryAfterMs?: number | null;
}

/** base × 2^(retry−1), ±25 % jitter, capped at an hour. */
export function computeBackoffMs(input: Pick<BackoffInput, 'retry' | 'baseMs' | 'random'>): number {
  const { retry, baseMs, random } = input;
  const exponent = Math.max(0, Math.floor(retry) - 1);
  const jitter = 1 + JITTER_FRACTION * (2 * clampUnit(random) - 1);
  return Math.min(MAX_BACKOFF_MS, Math.round(baseMs * 2 ** exponent * jitter));
}

/** The wait before a retry: the computed backoff, or Retry-After when that is longer (capped). */
export function retryDelayMs(input: BackoffInput): number {
  const computed = computeBackoffMs(input);
  const asked = input.retryAfterMs;
  if (asked != null && asked > computed) return Math.min(MAX_BACKOFF_MS, asked);
  return computed;
}

/**
 * `Retry-After` (RFC 9110 §10.2.3) as a delay in ms from `nowMs`: delta-seconds or an HTTP-date.
 * Returns null when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value == null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP-dates start with a day name ("Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850
  // and asctime forms). Requiring that keeps Date.parse from reading "-5" or "1.5" as a year.
  if (!/^[A-Za-z]{3}/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

function clampUnit(value: number): number {
  if (!(value >= 0)) return 0; // also NaN
  return value >= 1 ? 1 : value;
}
