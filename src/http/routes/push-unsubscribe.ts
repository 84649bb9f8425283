// The unauthenticated Unsubscribe-URL endpoint (SPEC §8.6, §12): the signed token in the path is the
// only credential. DELETE is what RFC 8030 push services and mail-style one-click flows use; POST is
// accepted too. A tampered or expired token answers 404 and removes nothing.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { unsubscribeWithToken } from '../../services/push-subscriptions.js';
import type { RouteOptions } from '../build-app.js';
import { pushDepsOf } from './push-subscription.js';

export const pushUnsubscribeRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const push = pushDepsOf(deps);
  const handler = async (request: FastifyRequest) => {
    const { token } = request.params as { token: string };
    await unsubscribeWithToken(push, token);
    return {};
  };
  app.delete('/api/v1/push/unsubscribe/:token', handler);
  app.post('/api/v1/push/unsubscribe/:token', handler);
};
