// Liveness and readiness (SPEC §10, §12): JSON, and 503 with the reason when the store is not ready.
import type { FastifyPluginAsync } from 'fastify';
import { isMigrated } from '../../store/migrations.js';
import { isReachable } from '../../store/open-store.js';
import type { RouteOptions } from '../build-app.js';

export const healthRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const { db, dialect } = deps.store;
    if (!(await isReachable(db))) return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
    if (!(await isMigrated(db, dialect))) return reply.code(503).send({ status: 'unavailable', reason: 'migrations pending' });
    return { status: 'ok' };
  });
};
