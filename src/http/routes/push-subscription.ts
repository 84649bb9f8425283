// The push subscription API (SPEC §8.1): scope `push` only, one subscription per access token.
import type { FastifyPluginAsync } from 'fastify';
import {
  changeSubscriptionData,
  showSubscription,
  subscribe,
  unsubscribe,
  type PushSubscriptionDeps,
} from '../../services/push-subscriptions.js';
import { parseAllowList } from '../../push/private-address.js';
import { callerOf, PUSH } from '../auth.js';
import type { AppDeps, RouteOptions } from '../build-app.js';
import { serializeWebPushSubscription } from '../serializers/web-push-subscription.js';

const PATH = '/api/v1/push/subscription';

/** What the push use cases need from the app's dependencies; buildApp has filled in the push secrets. */
export function pushDepsOf(deps: AppDeps): PushSubscriptionDeps {
  if (!deps.pushSecrets) throw new Error('buildApp did not resolve the push secrets');
  return {
    store: deps.store,
    now: deps.now,
    secrets: deps.pushSecrets,
    allowList: deps.pushAllowList ?? parseAllowList(deps.config.pushAllowPrivate.join(',')),
  };
}

export const pushSubscriptionRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const push: PushSubscriptionDeps = pushDepsOf(deps);
  const config = { scopes: PUSH };
  const entity = (row: Parameters<typeof serializeWebPushSubscription>[0]) =>
    serializeWebPushSubscription(row, deps.vapidPublicKey);

  app.post(PATH, { config }, async (request) => entity(await subscribe(push, callerOf(request), request.body)));

  app.get(PATH, { config }, async (request) => entity(await showSubscription(push, callerOf(request).tokenId)));

  app.put(PATH, { config }, async (request) =>
    entity(await changeSubscriptionData(push, callerOf(request).tokenId, request.body)),
  );

  // 200 {} whether or not there was one: masto.js throws on an empty body (SPEC §1.2).
  app.delete(PATH, { config }, async (request) => {
    await unsubscribe(push, callerOf(request).tokenId);
    return {};
  });
};
