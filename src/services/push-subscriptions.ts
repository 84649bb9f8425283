// Use cases of the push subscription API (SPEC §8.1) and of the Unsubscribe-URL (SPEC §8.6).
import { notFound } from '../domain/errors.js';
import type { AllowList } from '../push/private-address.js';
import type { Store } from '../store/open-store.js';
import {
  removeSubscriptions,
  findSubscription,
  findSubscriptionByToken,
  replaceSubscription,
  updateSubscriptionData,
  type PushSubscriptionRow,
} from '../store/push-subscriptions.js';
import { parseSubscriptionData, parseSubscriptionInput } from './push-subscription-params.js';
import { tokenContext, type PushSecrets } from './push-secrets.js';

export interface PushSubscriptionDeps {
  readonly store: Store;
  readonly now: () => number;
  readonly secrets: PushSecrets;
  readonly allowList: AllowList;
}

/** The caller, as the client API authenticated it. */
export interface Subscriber {
  readonly tokenId: number;
  readonly accountId: string;
  /** Kept (sealed) for the payload's `access_token` (SPEC §8.5): we store tokens only as hashes. */
  readonly plainToken: string;
}

export async function subscribe(deps: PushSubscriptionDeps, caller: Subscriber, body: unknown): Promise<PushSubscriptionRow> {
  const input = parseSubscriptionInput(body, deps.allowList);
  return replaceSubscription(
    deps.store.db,
    deps.store.dialect,
    {
      token_id: caller.tokenId,
      account_id: caller.accountId,
      endpoint: input.endpoint,
      p256dh: input.p256dh,
      auth: input.auth,
      standard: input.standard ? 1 : 0,
      alerts: JSON.stringify(input.data.alerts),
      policy: input.data.policy,
      access_token_enc: deps.secrets.tokenCipher.seal(caller.plainToken, tokenContext(caller.tokenId)),
    },
    deps.now(),
  );
}

export async function showSubscription(deps: Pick<PushSubscriptionDeps, 'store'>, tokenId: number): Promise<PushSubscriptionRow> {
  const row = await findSubscriptionByToken(deps.store.db, tokenId);
  if (!row) throw notFound();
  return row;
}

export async function changeSubscriptionData(
  deps: Pick<PushSubscriptionDeps, 'store' | 'now'>,
  tokenId: number,
  body: unknown,
): Promise<PushSubscriptionRow> {
  const data = parseSubscriptionData(body);
  const row = await updateSubscriptionData(
    deps.store.db,
    tokenId,
    { alerts: JSON.stringify(data.alerts), policy: data.policy },
    deps.now(),
  );
  if (!row) throw notFound();
  return row;
}

export async function unsubscribe(deps: Pick<PushSubscriptionDeps, 'store' | 'now'>, tokenId: number): Promise<void> {
  await deps.store.db
    .transaction()
    .execute((trx) => removeSubscriptions(trx, { tokenIds: [tokenId] }, { reason: 'deleted_by_app', now: deps.now() }));
}

/** Removes the subscription a valid Unsubscribe-URL token names; 404 for anything else, removing nothing. */
export async function unsubscribeWithToken(
  deps: Pick<PushSubscriptionDeps, 'store' | 'now' | 'secrets'>,
  token: string,
): Promise<void> {
  const tokens = deps.secrets.unsubscribeTokens;
  const claims = tokens.read(token, deps.now());
  if (!claims) throw notFound();
  const row = await findSubscription(deps.store.db, claims.subscriptionId);
  if (!row || !tokens.verify(token, row)) throw notFound();
  await deps.store.db.transaction().execute((trx) => removeSubscriptions(trx, { id: row.id }, { reason: 'unsubscribed', now: deps.now() }));
}
