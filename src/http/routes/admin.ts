// The host platform's side (SPEC §2): accounts, statuses, tokens and notification events.
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { HeraldError, notFound, validationFailed } from '../../domain/errors.js';
import { isObject, readId, toAccountRecord, toStatusRecord } from '../../domain/records.js';
import { ingestEvents, type IngestOutcome } from '../../services/ingest.js';
import { completeNotificationContext } from '../../services/notification-views.js';
import { deleteAccount, deleteStatus, findAccount, upsertAccount, upsertStatus } from '../../store/accounts.js';
import { hashToken, importToken, insertToken } from '../../store/tokens.js';
import { readRevocation, readTokenHash, revokeHostTokens } from '../../auth/token-revocation.js';
import type { Db } from '../../store/schema.js';
import { bearerCheck } from '../auth.js';
import type { RouteOptions } from '../build-app.js';
import { serializeNotification } from '../serializers/notification.js';
import { parseScopes } from '../../domain/scopes.js';
import { diagnosticsRoutes } from '../../console/diagnostics-routes.js';

const JSON_TYPE = 'application/json; charset=utf-8';

function idParam(request: FastifyRequest): string {
  const id = readId((request.params as { id?: unknown }).id);
  if (id === undefined) throw notFound();
  return id;
}

export const adminRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const db = deps.store.db;
  const isAdmin = bearerCheck(deps.adminToken);
  app.addHook('onRequest', async (request) => {
    if (!isAdmin(request)) throw new HeraldError('ERR_TOKEN_INVALID', 'The access token is invalid');
  });

  await app.register(diagnosticsRoutes, { deps });

  app.put('/accounts/:id', async (request) => {
    const id = idParam(request);
    const now = deps.now();
    const record = toAccountRecord(id, request.body, deps.config.publicUrl, now);
    await upsertAccount(db, {
      id,
      username: record.username,
      acct: record.acct,
      json: record.json,
      locale: record.locale,
      suspended: record.suspended ? 1 : 0,
      bot: record.bot ? 1 : 0,
      limited: record.limited ? 1 : 0,
      created_at: record.createdAtMs,
      updated_at: now,
    });
    return { ...JSON.parse(record.json), locale: record.locale, suspended: record.suspended };
  });

  app.delete('/accounts/:id', async (request) => {
    const id = idParam(request);
    await db.transaction().execute((trx) => deleteAccount(trx, id));
    return {};
  });

  app.put('/statuses/:id', async (request, reply) => {
    const id = idParam(request);
    const record = toStatusRecord(id, request.body);
    await upsertStatus(db, { id, account_id: record.accountId, visibility: record.visibility, json: record.json, updated_at: deps.now() });
    return reply.type(JSON_TYPE).send(record.json);
  });

  app.delete('/statuses/:id', async (request) => {
    const id = idParam(request);
    await db.transaction().execute((trx) => deleteStatus(trx, id));
    return {};
  });

  // Mints a token, or imports the host's (SPEC §13) when `access_token` or `token_sha256` names one.
  app.post('/tokens', async (request) => {
    const body = request.body;
    if (!isObject(body)) throw validationFailed('body must be a JSON object');
    const importedHash = readTokenHash(body);
    const scopes = parseScopes(body.scopes);
    let accountId: string | null = null;
    if (body.account_id !== undefined && body.account_id !== null) {
      accountId = readId(body.account_id) ?? null;
      if (accountId === null || !(await findAccount(db, accountId))) throw validationFailed('unknown account');
    }
    const clientName = body.client_name;
    if (clientName !== undefined && clientName !== null && (typeof clientName !== 'string' || clientName.length > 255)) {
      throw validationFailed('client_name must be a string of at most 255 characters');
    }
    const now = deps.now();
    const values = { account_id: accountId, scopes: scopes.join(' '), client_name: typeof clientName === 'string' ? clientName : null, created_at: now };
    if (importedHash !== undefined) {
      const row = await importToken(db, { ...values, token_hash: importedHash });
      if (!row) throw validationFailed('this token was revoked and cannot be imported again');
      // Never a plain token Herald was not given (SPEC §13).
      const given = typeof body.access_token === 'string' ? { access_token: body.access_token } : {};
      return { id: String(row.id), ...given, token_type: 'Bearer', scope: row.scopes, created_at: Math.floor(row.created_at / 1000) };
    }
    const plain = randomBytes(32).toString('base64url');
    const row = await insertToken(db, { ...values, token_hash: hashToken(plain) });
    return { id: String(row.id), access_token: plain, token_type: 'Bearer', scope: row.scopes, created_at: Math.floor(now / 1000) };
  });

  const revocationDeps = { db, bus: deps.bus, now: deps.now };

  app.post('/tokens/revoke', async (request) => ({ revoked: await revokeHostTokens(revocationDeps, readRevocation(request.body)) }));

  app.delete('/tokens/:id', async (request) => {
    const raw = (request.params as { id: string }).id;
    if (!/^\d{1,15}$/.test(raw)) throw notFound();
    if ((await revokeHostTokens(revocationDeps, { id: Number(raw) })) === 0) throw notFound();
    return {};
  });

  const ingestDeps = { db, bus: deps.bus, now: deps.now };

  app.post('/notifications', async (request, reply) => {
    const outcome = await ingestEvents(ingestDeps, [request.body], false);
    deps.activity?.countIngested(1);
    const [rendered] = await renderResults(db, outcome);
    return reply.type(JSON_TYPE).send(rendered);
  });

  app.post('/notifications/batch', async (request, reply) => {
    const body = request.body;
    if (!isObject(body) || !Array.isArray(body.events)) throw validationFailed('events must be an array');
    const outcome = await ingestEvents(ingestDeps, body.events, true);
    deps.activity?.countIngested(body.events.length);
    const rendered = await renderResults(db, outcome);
    return reply.type(JSON_TYPE).send(`{"results":[${rendered.join(',')}]}`);
  });
};

async function renderResults(db: Db, { results, accounts, statuses }: IngestOutcome): Promise<string[]> {
  const rows = results.flatMap((r) => (r.kind === 'notification' ? [r.row] : []));
  const ctx = await completeNotificationContext(db, rows, { accounts, statuses });
  return results.map((r) =>
    r.kind === 'notification' ? serializeNotification(r.row, ctx) : JSON.stringify({ dropped: true, reason: r.reason }),
  );
}
