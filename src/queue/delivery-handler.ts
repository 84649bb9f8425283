// One delivery attempt (SPEC §8.4–§8.7). Jobs carry ids only (STYLE "Jobs carry ids"): the subscription
// and the notification are reloaded at send time, so a subscription removed or changed since queuing,
// a notification deleted, or a notification past its 48 hours is honoured; alerts and policy are checked
// again against what is stored now; the message is encrypted afresh for every attempt.
import { shouldPush, isPushPolicy, type Alerts } from '../domain/push-selection.js';
import { unpackRelationship } from '../domain/notification-policy.js';
import { isNotificationType } from '../domain/notification-types.js';
import { classifyNetworkError, classifyPushResponse, type PushOutcome } from '../push/classify-response.js';
import type { PushRequest } from '../push/build-push-request.js';
import { isPushError, PushError } from '../push/push-errors.js';
import type { PushSender } from '../push/sender.js';
import {
  accessTokenOf,
  buildSubscriptionRequest,
  composePayloadFrom,
  type PushMessageDeps,
} from '../services/push-message.js';
import {
  completeDelivery,
  giveUpDelivery,
  loadDeliveryInputs,
  rescheduleDelivery,
  type DeliveryInputs,
  type DeliveryRow,
} from '../store/deliveries.js';
import type { NotificationRow } from '../store/notifications.js';
import { removeSubscriptions, type RemovalReason, type PushSubscriptionRow } from '../store/push-subscriptions.js';
import type { Database } from '../store/schema.js';
import type { Kysely } from 'kysely';
import type { DeliveryMetrics, DeliveryOutcomeLabel } from './delivery-metrics.js';
import type { OriginBreaker } from './origin-breaker.js';
import type { PushTokenRecheck } from '../auth/push-token-recheck.js';
import type { DeliveryDiagnostics } from './delivery-diagnostics.js';

/** SPEC §8.4, §12: nothing is sent for a notification more than 48 hours after its created_at. */
export const PUSH_MAX_AGE_MS = 48 * 60 * 60 * 1000;

export interface WorkerLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface DeliveryHandlerDeps extends PushMessageDeps {
  readonly db: Kysely<Database>;
  readonly sender: PushSender;
  readonly breaker: OriginBreaker;
  readonly metrics: DeliveryMetrics;
  readonly logger: WorkerLogger;
  /** HERALD_PUSH_RETRY_BASE_MS. */
  readonly retryBaseMs: number;
  /** [0, 1), for the retry jitter. */
  readonly random: () => number;
  /** SPEC §14: what each attempt says about its subscription and push service, for the console. */
  readonly diagnostics?: DeliveryDiagnostics;
  /** SPEC §13: asks an introspected token's source again before sending; absent when introspection is off. */
  readonly recheckToken?: PushTokenRecheck;
  /** Removes a finished delivery's row; completeDelivery unless the worker batches them. */
  readonly complete?: (id: number) => Promise<void>;
}

/** What became of one attempt; returned for tests and the push test command. */
export type AttemptResult =
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'paused'; readonly origin: string; readonly until: number }
  | { readonly kind: 'sent'; readonly outcome: PushOutcome; readonly action: DeliveryOutcomeLabel };

/** One attempt, reading the subscription and the notification as stored now. */
export function createDeliveryHandler(deps: DeliveryHandlerDeps): (delivery: DeliveryRow) => Promise<AttemptResult> {
  const handle = createBatchDeliveryHandler(deps);
  return async (delivery) => handle(delivery, await loadDeliveryInputs(deps.db, [delivery]));
}

/**
 * One attempt with `inputs` loaded just now for the delivery's whole claimed batch (loadDeliveryInputs):
 * the worker starts every job of a claim at once, so they are as fresh as a load per delivery.
 */
export function createBatchDeliveryHandler(
  deps: DeliveryHandlerDeps,
): (delivery: DeliveryRow, inputs: DeliveryInputs) => Promise<AttemptResult> {
  const { db, metrics } = deps;
  const alertsOf = createAlertsParser();

  const skip = async (delivery: DeliveryRow, reason: string, origin = 'none'): Promise<AttemptResult> => {
    await completeWith(deps, delivery.id);
    metrics.recordOutcome(origin, 'skipped', null, false);
    return { kind: 'skipped', reason };
  };

  return async function handleDelivery(delivery, inputs) {
    const now = deps.now();
    const subscription = inputs.subscriptions.get(delivery.subscription_id);
    if (!subscription) return skip(delivery, 'subscription gone');
    const notification = inputs.notifications.get(delivery.notification_id);
    if (!notification || notification.account_id !== subscription.account_id) return skip(delivery, 'notification gone');
    const origin = new URL(subscription.endpoint).origin;
    if (now - notification.created_at > PUSH_MAX_AGE_MS) return skip(delivery, 'notification older than 48 hours', origin);
    if (!isWanted(subscription, notification, alertsOf)) return skip(delivery, 'alert or policy now off', origin);

    if (deps.recheckToken) {
      const verdict = await recheck(deps, subscription);
      if (verdict === 'inactive') {
        await removeSubscription(deps, subscription, 'token_inactive', 'the access token is no longer active');
        metrics.recordOutcome(origin, 'skipped', null, false);
        return { kind: 'skipped', reason: 'access token no longer active' };
      }
      if (verdict === 'unavailable') {
        // Nothing is deleted while the source cannot tell; the delivery waits as after a network error.
        const context = { now, attempt: delivery.attempts, baseMs: deps.retryBaseMs, random: deps.random(), deadline: notification.created_at + PUSH_MAX_AGE_MS };
        const outcome = classifyNetworkError({ ...context, error: new Error('token introspection unavailable') });
        const action = await act(deps, delivery, subscription, origin, outcome);
        metrics.recordOutcome(origin, action, null, false);
        return { kind: 'sent', outcome, action };
      }
    }

    const pausedUntil = deps.breaker.pausedUntil(origin, now);
    if (pausedUntil !== null) {
      // A pause is our fault, not the subscription's: it does not use up a retry.
      await rescheduleDelivery(db, delivery, { at: pausedUntil, lastStatus: 'origin paused', attempts: delivery.attempts - 1 });
      metrics.recordOutcome(origin, 'paused', null, false);
      return { kind: 'paused', origin, until: pausedUntil };
    }

    let request: PushRequest;
    try {
      const payload = composePayloadFrom(notification, inputs.accounts, inputs.statuses, accessTokenOf(deps.secrets, subscription));
      if (payload === null) return skip(delivery, 'actor removed or suspended', origin);
      const started = performance.now();
      request = await buildSubscriptionRequest(deps, subscription, payload, notification.group_key);
      metrics.observeEncryption((performance.now() - started) / 1000);
    } catch (error) {
      // A key that no longer decodes, a token sealed with another secret: sending again cannot help.
      const reason = isPushError(error) ? `${error.code}: ${error.message}` : `cannot build the message: ${describe(error)}`;
      deps.logger.warn({ deliveryId: delivery.id, subscriptionId: subscription.id, reason }, 'push delivery given up');
      await giveUpDelivery(db, delivery, { now, lastStatus: reason });
      metrics.recordOutcome(origin, 'given_up', null, false);
      return { kind: 'sent', outcome: { kind: 'give-up', status: null, reason }, action: 'given_up' };
    }

    const sendStarted = performance.now();
    const outcome = await send(deps, request, origin, {
      attempt: delivery.attempts,
      deadline: notification.created_at + PUSH_MAX_AGE_MS,
    });
    const sendMs = performance.now() - sendStarted;
    const action = await act(deps, delivery, subscription, origin, outcome);
    metrics.recordOutcome(origin, action, outcome.status, true);
    deps.diagnostics?.record({
      subscriptionId: subscription.id,
      origin,
      action,
      status: outcome.status,
      reason: 'reason' in outcome ? outcome.reason : undefined,
      sendMs,
      at: deps.now(),
    });
    return { kind: 'sent', outcome, action };
  };
}

/** A token that cannot be opened is left for the message build below to give up on. */
async function recheck(deps: DeliveryHandlerDeps, subscription: PushSubscriptionRow): Promise<'ok' | 'inactive' | 'unavailable'> {
  let plain: string;
  try {
    plain = accessTokenOf(deps.secrets, subscription);
  } catch {
    return 'ok';
  }
  return deps.recheckToken!(subscription, plain);
}

/**
 * Parses subscriptions' alerts, remembering them by their JSON: a deployment has few distinct ones, and
 * parsing them for every delivery was ~2% of the main thread at the delivery benchmark's peak. Bounded.
 */
function createAlertsParser(): (json: string) => Readonly<Alerts> | null {
  const parsed = new Map<string, Alerts | null>();
  return (json) => {
    let alerts = parsed.get(json);
    if (alerts === undefined) {
      try {
        alerts = JSON.parse(json) as Alerts;
      } catch {
        alerts = null;
      }
      if (parsed.size >= 1000) parsed.clear();
      parsed.set(json, alerts);
    }
    return alerts;
  };
}

function isWanted(
  subscription: PushSubscriptionRow,
  notification: NotificationRow,
  alertsOf: (json: string) => Readonly<Alerts> | null,
): boolean {
  if (!isNotificationType(notification.type)) return false;
  const alerts = alertsOf(subscription.alerts);
  if (alerts === null) return false;
  const policy = isPushPolicy(subscription.policy) ? subscription.policy : 'none';
  return shouldPush(
    { alerts, policy },
    { type: notification.type, filtered: notification.filtered === 1 },
    unpackRelationship(notification.relationship),
  );
}

/** Sends and classifies; a thrown error is an answer too (timeout, reset, refused address). */
export async function send(
  deps: Pick<DeliveryHandlerDeps, 'sender' | 'metrics' | 'now' | 'retryBaseMs' | 'random'>,
  request: PushRequest,
  origin: string,
  attempt: { attempt: number; deadline?: number },
): Promise<PushOutcome> {
  const started = performance.now();
  const context = () => ({ now: deps.now(), attempt: attempt.attempt, baseMs: deps.retryBaseMs, random: deps.random(), deadline: attempt.deadline });
  try {
    const response = await deps.sender.send(request);
    deps.metrics.observeSend(origin, (performance.now() - started) / 1000);
    return classifyPushResponse({ ...context(), status: response.status, headers: response.headers });
  } catch (error) {
    return classifyNetworkError({ ...context(), error: unwrapPushError(error) });
  }
}

const completeWith = (deps: DeliveryHandlerDeps, id: number): Promise<void> =>
  deps.complete ? deps.complete(id) : completeDelivery(deps.db, id);

/** Applies an outcome to the store; returns the metric label of what was done. */
async function act(
  deps: DeliveryHandlerDeps,
  delivery: DeliveryRow,
  subscription: PushSubscriptionRow,
  origin: string,
  outcome: PushOutcome,
): Promise<DeliveryOutcomeLabel> {
  const { db, logger } = deps;
  const where = { deliveryId: delivery.id, subscriptionId: subscription.id, origin, attempt: delivery.attempts };
  switch (outcome.kind) {
    case 'delivered':
      await completeWith(deps, delivery.id);
      return 'delivered';
    case 'gone':
      await removeSubscription(deps, subscription, 'gone', `${outcome.status}: ${outcome.reason}`);
      return 'gone';
    case 'auth-failed': {
      const verdict = await deps.breaker.recordAuthFailure(origin, subscription.id, deps.now());
      if (verdict.kind === 'delete') {
        await removeSubscription(deps, subscription, 'refused', `${outcome.status}: ${outcome.reason}`);
        return 'gone';
      }
      if (verdict.tripped) {
        deps.metrics.originPaused(origin);
        logger.error(
          { origin, refusals: verdict.refusals, until: new Date(verdict.until).toISOString() },
          `push service ${origin} refused our VAPID authorization (${outcome.status}) for ${verdict.refusals} different subscriptions within minutes: ` +
            'the fault is probably ours (VAPID key changed or rejected, check HERALD_VAPID_PUBLIC_KEY/PRIVATE_KEY and HERALD_VAPID_SUBJECT). ' +
            'Not deleting subscriptions; deliveries to this origin are paused',
        );
      }
      await rescheduleDelivery(db, delivery, {
        at: verdict.until,
        lastStatus: `${outcome.status} origin paused`,
        attempts: delivery.attempts - 1,
      });
      return 'paused';
    }
    case 'retry':
      await rescheduleDelivery(db, delivery, { at: outcome.at, lastStatus: `${outcome.status ?? 'network'}: ${outcome.reason}` });
      return 'retry';
    case 'give-up':
      logger.warn({ ...where, reason: outcome.reason }, 'push delivery given up');
      await giveUpDelivery(db, delivery, { now: deps.now(), lastStatus: `${outcome.status ?? 'network'}: ${outcome.reason}` });
      return isRefusal(outcome.reason) ? 'refused' : 'given_up';
  }
}

async function removeSubscription(
  deps: DeliveryHandlerDeps,
  subscription: PushSubscriptionRow,
  reason: RemovalReason,
  detail: string,
): Promise<void> {
  deps.logger.info({ subscriptionId: subscription.id, accountId: subscription.account_id, reason, detail }, 'push subscription removed');
  await deps.db.transaction().execute((trx) => removeSubscriptions(trx, { id: subscription.id }, { reason, detail, now: deps.now() }));
}

/** undici may wrap the connector's error; the refusal (a PushError) is what classification needs to see. */
function unwrapPushError(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current instanceof PushError) return current;
    current = (current as Error & { cause?: unknown }).cause;
  }
  return error;
}

const isRefusal = (reason: string): boolean => reason.startsWith('ERR_SUBSCRIPTION_INVALID_ENDPOINT');

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
