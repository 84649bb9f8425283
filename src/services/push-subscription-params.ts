// Reading the push subscription API's parameters (SPEC §8.1, §8.2). Pure: body in, checked values or
// a 422 listing every problem out, so a rejected request stores nothing.
import { badParameter, validationFailed } from '../domain/errors.js';
import { NOTIFICATION_TYPES, type NotificationType } from '../domain/notification-types.js';
import { castBoolean, stringParam } from '../domain/params.js';
import { isPushPolicy, PUSH_POLICIES, type PushPolicy } from '../domain/push-selection.js';
import { isObject, type JsonObject } from '../domain/records.js';
import { toBase64Url } from '../push/base64url.js';
import { parseAuthSecret, parseP256dh } from '../push/keys.js';
import { validatePushEndpoint, type AllowList } from '../push/private-address.js';
import { isPushError } from '../push/push-errors.js';

export type AlertMap = Readonly<Record<NotificationType, boolean>>;

export interface SubscriptionData {
  readonly alerts: AlertMap;
  readonly policy: PushPolicy;
}

export interface SubscriptionInput {
  readonly endpoint: string;
  /** Canonical url-safe base64 without padding, whatever alphabet the client used. */
  readonly p256dh: string;
  readonly auth: string;
  readonly standard: boolean;
  readonly data: SubscriptionData;
}

/** POST: `subscription[…]` is required; `data` and a top-level `policy` are optional. */
export function parseSubscriptionInput(body: unknown, allowList: AllowList): SubscriptionInput {
  const params = isObject(body) ? body : {};
  const subscription = params.subscription;
  // Rails' params.require(:subscription): a missing group is a malformed request, not a validation error.
  if (!isObject(subscription)) throw badParameter('param is missing or the value is empty: subscription');
  const keys = isObject(subscription.keys) ? subscription.keys : {};
  const errors: string[] = [];
  const check = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      if (!isPushError(error)) throw error;
      errors.push(error.message);
      return undefined;
    }
  };

  const endpoint = stringParam(subscription.endpoint);
  if (endpoint === undefined || endpoint === '') errors.push("endpoint can't be blank");
  else check(() => validatePushEndpoint(endpoint, allowList));
  const p256dh = requiredKey(keys.p256dh, 'p256dh', errors, (text) => check(() => parseP256dh(text)));
  const auth = requiredKey(keys.auth, 'auth', errors, (text) => check(() => parseAuthSecret(text)));
  const data = readData(params, errors);
  if (errors.length > 0) throw validationFailed(...errors);
  return {
    endpoint: endpoint!,
    p256dh: toBase64Url(p256dh!),
    auth: toBase64Url(auth!),
    standard: castBoolean(subscription.standard) === true,
    data: data!,
  };
}

/** PUT: only `data` (and a top-level `policy`), replaced wholesale. */
export function parseSubscriptionData(body: unknown): SubscriptionData {
  const errors: string[] = [];
  const data = readData(isObject(body) ? body : {}, errors);
  if (errors.length > 0) throw validationFailed(...errors);
  return data!;
}

function requiredKey(
  value: unknown,
  name: string,
  errors: string[],
  decode: (text: string) => Buffer | undefined,
): Buffer | undefined {
  if (typeof value !== 'string' || value === '') {
    errors.push(`${name} can't be blank`);
    return undefined;
  }
  return decode(value);
}

/**
 * `data[alerts][<type>]` and `data[policy]`. No alert is on unless sent (SPEC §8.1). masto.js sends
 * `policy` at the top level and `admin` alerts nested (`alerts[admin][sign_up]`), Mastodon's own web
 * client sends them flat (`alerts[admin.sign_up]`): both are read, the flat form winning.
 */
function readData(params: JsonObject, errors: string[]): SubscriptionData | undefined {
  const data = isObject(params.data) ? params.data : {};
  const given = isObject(data.alerts) ? data.alerts : {};
  const admin = isObject(given.admin) ? given.admin : {};
  const alerts = {} as Record<NotificationType, boolean>;
  for (const type of NOTIFICATION_TYPES) {
    const flat = given[type];
    const value = flat === undefined && type.startsWith('admin.') ? admin[type.slice('admin.'.length)] : flat;
    alerts[type] = isScalar(value) && castBoolean(value) === true;
  }
  const rawPolicy = data.policy ?? params.policy;
  // SPEC §8.2 deviation: Mastodon stores any string and then never pushes; we refuse it.
  if (rawPolicy === undefined || rawPolicy === null || rawPolicy === '') return { alerts, policy: 'all' };
  if (!isPushPolicy(rawPolicy)) {
    errors.push(`policy must be one of ${PUSH_POLICIES.join(', ')}`);
    return undefined;
  }
  return { alerts, policy: rawPolicy };
}

const isScalar = (value: unknown): boolean =>
  typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number';
