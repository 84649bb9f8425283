// notification policy and requests (SPEC §7).
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../build-app.js';

export const notificationFilteringRoutes: FastifyPluginAsync<RouteOptions> = async () => {};
