// A fresh Herald per test on either engine: its own SQLite file or PostgreSQL schema, a settable clock,
// and shortcuts for the admin API.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql, type DatabaseIntrospector, type Kysely } from 'kysely';
import { inject } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp } from '../../src/http/build-app.js';
import { createLocalBus, type NotificationBus } from '../../src/services/notification-bus.js';
import { migrateToLatest } from '../../src/store/migrations.js';
import { openStore, type Store } from '../../src/store/open-store.js';
import type { Database } from '../../src/store/schema.js';
import type { RateLimits } from '../../src/http/rate-limit.js';
import { accountJson, statusJson } from './fixtures.js';

export const ENGINES = ['sqlite', 'postgres'] as const;
export type Engine = (typeof ENGINES)[number];

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const PUBLIC_URL = 'https://herald.test';
export const VAPID_PUBLIC_KEY = 'BEQgMofY7QhW2FoDJhGKtLt3OMEn3QtYyM8cus38FtqK6CtpAYzOJaCY1ADJzpp1U8oIfuITTx-b3UT0jv3KjvM';

export interface TestStore {
  readonly store: Store;
  close(): Promise<void>;
}

/** An empty, migrated store on the given engine. */
export async function createTestStore(engine: Engine): Promise<TestStore> {
  if (engine === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-test-'));
    const store = openStore({ dataDir: dir });
    await migrateToLatest(store.db, store.dialect);
    return {
      store,
      async close() {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = inject('postgresUrl');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const store = openStore({ dataDir: '', databaseUrl: url, pgSchema: schema, pgPoolSize: 4 });
  await migrateToLatest(withIntrospectionOf(store.db, schema), store.dialect);
  return {
    store,
    async close() {
      await store.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop schema ${schema} cascade`);
      await c.end();
    },
  };
}

/**
 * Kysely's migrator, unless given a schema, looks for its own tables in every schema of the database: while
 * another test's schema exists it believes its tables exist, skips creating them and fails ("relation
 * kysely_migration_lock does not exist"); and its catalogue query over every schema fails when another
 * worker drops a schema meanwhile ("schema t_… does not exist"). Show it only this test's schema's tables.
 */
function withIntrospectionOf(db: Kysely<Database>, schema: string): Kysely<Database> {
  const introspection: DatabaseIntrospector = {
    getSchemas: () => db.introspection.getSchemas(),
    getTables: async () => {
      const { rows } = await sql<{ name: string }>`select tablename as name from pg_catalog.pg_tables where schemaname = ${schema}`.execute(db);
      return rows.map((row) => ({ name: row.name, schema, isView: false, columns: [] }));
    },
    getMetadata: async () => ({ tables: await introspection.getTables() }),
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === 'introspection') return introspection;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly bus: NotificationBus;
  readonly config: Config;
  /** The clock every part of the app reads; tests move it. */
  readonly clock: { now: number };
  close(): Promise<void>;
  admin(method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<LightMyRequestResponse>;
  /** Upserts an account; extra fields merge into a minimal Account. */
  account(id: string, extra?: Record<string, unknown>): Promise<void>;
  /** Upserts a status; `author` (default '1') names its account. */
  status(id: string, extra?: Record<string, unknown>): Promise<void>;
  /** Mints a token and returns the plain access token. */
  token(accountId: string | null, scopes?: string): Promise<string>;
  /** Posts one event and returns the parsed answer. */
  notify(event: Record<string, unknown>): Promise<Record<string, any>>;
  /** A client request with a bearer token. */
  client(
    token: string | undefined,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
  ): Promise<LightMyRequestResponse>;
}

export const START_TIME = Date.parse('2026-11-22T12:00:00.000Z');

export async function createTestApp(
  engine: Engine,
  options: { env?: Record<string, string>; rateLimits?: RateLimits | null } = {},
): Promise<TestApp> {
  const { store, close } = await createTestStore(engine);
  const config = loadConfig({ HERALD_PUBLIC_URL: PUBLIC_URL, HERALD_DATA_DIR: os.tmpdir(), ...options.env });
  const clock = { now: START_TIME };
  const bus = createLocalBus();
  const app = await buildApp({
    config,
    store,
    bus,
    now: () => clock.now,
    adminToken: ADMIN_TOKEN,
    vapidPublicKey: VAPID_PUBLIC_KEY,
    rateLimits: options.rateLimits === undefined ? null : options.rateLimits,
  });
  const admin: TestApp['admin'] = (method, url, body) =>
    app.inject({ method, url: `/api/admin/v1${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: body as object });
  const expectOk = (res: LightMyRequestResponse): LightMyRequestResponse => {
    if (res.statusCode !== 200) throw new Error(`admin call failed: ${res.statusCode} ${res.body}`);
    return res;
  };
  return {
    app,
    store,
    bus,
    config,
    clock,
    admin,
    async close() {
      await app.close();
      await close();
    },
    async account(id, extra = {}) {
      expectOk(await admin('PUT', `/accounts/${id}`, accountJson(id, extra)));
    },
    async status(id, { author = '1', ...extra } = {}) {
      expectOk(
        await admin('PUT', `/statuses/${id}`, statusJson(id, String(author), extra)),
      );
    },
    async token(accountId, scopes = 'read write push') {
      const res = expectOk(await admin('POST', '/tokens', { account_id: accountId, scopes }));
      return res.json().access_token as string;
    },
    async notify(event) {
      return expectOk(await admin('POST', '/notifications', event)).json();
    },
    client(token, method, url, body) {
      return app.inject({
        method,
        url,
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        payload: body as object,
      });
    },
  };
}
