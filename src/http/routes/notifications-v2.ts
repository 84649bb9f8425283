// v2 grouped notifications (SPEC §6).
import type { FastifyPluginAsync } from 'fastify';
import type { RouteOptions } from '../build-app.js';

export const notificationRoutesV2: FastifyPluginAsync<RouteOptions> = async () => {};
