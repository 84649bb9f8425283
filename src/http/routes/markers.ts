// Markers (SPEC §5): where the user stopped reading, per timeline.
import type { FastifyPluginAsync } from 'fastify';
import { HeraldError, validationFailed } from '../../domain/errors.js';
import { stringArray } from '../../domain/params.js';
import { isObject, toIso } from '../../domain/records.js';
import { findMarker, findMarkers, saveMarker, type MarkerRow } from '../../store/markers.js';
import { callerOf } from '../auth.js';
import type { RouteOptions } from '../build-app.js';

const TIMELINES = ['home', 'notifications'];

function toMarkerMap(rows: readonly MarkerRow[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const row of rows) {
    out[row.timeline] = { last_read_id: row.last_read_id, version: row.version, updated_at: toIso(row.updated_at) };
  }
  return out;
}

export const markerRoutes: FastifyPluginAsync<RouteOptions> = async (app, { deps }) => {
  const db = deps.store.db;

  app.get('/api/v1/markers', { config: { scopes: ['read', 'read:statuses'] } }, async (request) => {
    const asked = stringArray((request.query as Record<string, unknown>).timeline) ?? [];
    const timelines = [...new Set(asked.filter((t) => TIMELINES.includes(t)))];
    return toMarkerMap(await findMarkers(db, callerOf(request).accountId, timelines));
  });

  app.post('/api/v1/markers', { config: { scopes: ['write', 'write:statuses'] } }, async (request) => {
    const body = isObject(request.body) ? request.body : {};
    const updates: { timeline: string; lastReadId: string }[] = [];
    for (const timeline of TIMELINES) {
      const entry = body[timeline];
      if (entry === undefined) continue;
      const id = isObject(entry) ? entry.last_read_id : undefined;
      const lastReadId = typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : id;
      if (typeof lastReadId !== 'string' || lastReadId === '' || lastReadId.length > 255) {
        throw validationFailed(`${timeline}[last_read_id] must be an id`);
      }
      updates.push({ timeline, lastReadId });
    }
    const accountId = callerOf(request).accountId;
    const saved = await db.transaction().execute(async (trx) => {
      const rows: MarkerRow[] = [];
      for (const update of updates) {
        const current = await findMarker(trx, accountId, update.timeline);
        const row = await saveMarker(trx, current, { accountId, ...update, now: deps.now() });
        if (!row) throw new HeraldError('ERR_CONFLICT', 'Conflict during update, please try again');
        rows.push(row);
      }
      return rows;
    });
    return toMarkerMap(saved);
  });
};
