// Liveness and readiness (SPEC §10, §12): JSON, and 503 with the reason when the store is not ready. Served
// by the web app and by a worker-only process alike.
import type { FastifyInstance } from 'fastify';
import { isMigrated } from '../../store/migrations.js';
import { isReachable, type Store } from '../../store/open-store.js';

export function registerHealthRoutes(app: FastifyInstance, store: Store): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (!(await isReachable(store.db))) return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
    if (!(await isMigrated(store.db, store.dialect))) return reply.code(503).send({ status: 'unavailable', reason: 'migrations pending' });
    return { status: 'ok' };
  });
}
