// the unauthenticated Unsubscribe-URL endpoint (SPEC §8.6).
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../build-app.js';

export const pushUnsubscribeRoutes: FastifyPluginAsync<RouteOptions> = async () => {};
