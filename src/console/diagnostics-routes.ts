// The console's admin JSON (SPEC §14), registered inside the admin API (admin token required). Everything is
// read from the database, so every process and `herald status` answer the same; nothing shows an endpoint's
// path, a token or a subscription's keys.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { notFound } from '../domain/errors.js';
import { readId } from '../domain/records.js';
import type { RouteOptions } from '../http/build-app.js';
import { readAccountDiagnosis, readOrigins, readQueue, readStatus } from './diagnostics.js';

export const diagnosticsRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const db = deps.store.db;

  app.get('/status', async () => readStatus(db, deps.now()));
  app.get('/push/queue', async () => readQueue(db, deps.now()));
  app.get('/push/origins', async () => readOrigins(db, deps.now()));
  app.get('/push/accounts/:id', async (request: FastifyRequest) => {
    const id = readId((request.params as { id?: unknown }).id);
    const diagnosis = id === undefined ? undefined : await readAccountDiagnosis(db, id, deps.now());
    if (!diagnosis) throw notFound();
    return diagnosis;
  });
};
