/**
 * What a push service's answer means for the delivery and the subscription (SPEC §8.7).
 * Pure: `status, headers, now → outcome`; the worker acts on the outcome.
 */
import { MAX_RETRIES, parseRetryAfter, retryDelayMs } from './backoff.js';
import { PushError } from './push-errors.js';

export type PushOutcome =
  | { kind: 'delivered'; status: number }
  /** Delete the subscription. */
  | { kind: 'gone'; status: number; reason: string }
  /**
   * 401/403. Usually a dead subscription (delete it, as for `gone`), but when one origin answers
   * this to several subscriptions within minutes the fault is our VAPID key: the caller's per-origin
   * breaker then pauses the origin instead of deleting (SPEC §8.7 deviation).
   */
  | { kind: 'auth-failed'; status: number; reason: string }
  /** Send again at `at` (ms since the epoch), encrypting afresh (SPEC §12). */
  | { kind: 'retry'; status: number | null; at: number; delayMs: number; reason: string }
  /** Stop retrying and record it; the subscription stays. */
  | { kind: 'give-up'; status: number | null; reason: string };

export type ResponseHeaders =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null };

export interface AttemptContext {
  /** ms since the epoch. */
  now: number;
  /** The attempt that just failed: 1 for the first send, 2 for the first retry … */
  attempt: number;
  /** HERALD_PUSH_RETRY_BASE_MS. */
  baseMs: number;
  /** A number in [0, 1) for the jitter. */
  random: number;
  /** No retry is scheduled after this instant (the 48-hour TTL of SPEC §8.4), ms since the epoch. */
  deadline?: number;
}

export function classifyPushResponse(input: AttemptContext & { status: number; headers?: ResponseHeaders }): PushOutcome {
  const { status } = input;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 404 || status === 410) {
    // RFC 8030 §7.3: the push service no longer knows the subscription.
    return { kind: 'gone', status, reason: `push service answered ${status}: subscription expired or unsubscribed` };
  }
  if (status === 401 || status === 403) {
    return { kind: 'auth-failed', status, reason: `push service answered ${status}: VAPID authorization refused` };
  }
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfter = parseRetryAfter(headerValue(input.headers, 'retry-after'), input.now);
    return scheduleRetry(input, status, `push service answered ${status}`, retryAfter);
  }
  if (status >= 400 && status < 500) {
    // Mastodon (Web::PushNotificationWorker) deletes on any other 4xx: the service has judged the
    // request, and resending it unchanged cannot succeed, so the subscription is as good as dead.
    return { kind: 'gone', status, reason: `push service answered ${status}: request refused, subscription dropped` };
  }
  // 1xx/3xx: we do not follow redirects (SPEC §8.7), and nothing was delivered; try again later
  // as Mastodon's job retry would.
  return scheduleRetry(input, status, `push service answered unexpected ${status}`, null);
}

/**
 * A send that got no HTTP answer: connect or request timeout, reset, DNS failure → retry.
 * Our own refusals (a PushError: payload too large, endpoint now resolving to a private address)
 * would fail the same way again, so they give up at once without touching the subscription.
 */
export function classifyNetworkError(input: AttemptContext & { error: unknown }): PushOutcome {
  const { error } = input;
  if (error instanceof PushError) return { kind: 'give-up', status: null, reason: `${error.code}: ${error.message}` };
  return scheduleRetry(input, null, `network error: ${describeError(error)}`, null);
}

function scheduleRetry(context: AttemptContext, status: number | null, reason: string, retryAfterMs: number | null): PushOutcome {
  const retry = Math.max(1, Math.floor(context.attempt));
  if (retry > MAX_RETRIES) {
    return { kind: 'give-up', status, reason: `${reason}; gave up after ${MAX_RETRIES} retries` };
  }
  const delayMs = retryDelayMs({ retry, baseMs: context.baseMs, random: context.random, retryAfterMs });
  const at = context.now + delayMs;
  if (context.deadline !== undefined && at > context.deadline) {
    return { kind: 'give-up', status, reason: `${reason}; next retry would pass the 48-hour limit` };
  }
  return { kind: 'retry', status, at, delayMs, reason };
}

function headerValue(headers: ResponseHeaders | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${error.message}` : `${error.name}: ${error.message}`;
  }
  return String(error);
}
