// the push subscription API (SPEC §8.1).
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../build-app.js';

export const pushSubscriptionRoutes: FastifyPluginAsync<RouteOptions> = async () => {};
