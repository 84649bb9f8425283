// Opens the store: SQLite in the data directory by default, PostgreSQL when DATABASE_URL is set.
import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { SqliteDatabase } from './sqlite-driver.js';
import { createQueryId, Kysely, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type Compilable, type CompiledQuery, type RawBuilder } from 'kysely';
import pg from 'pg';
import type { Database, Db } from './schema.js';
import type { Dialect } from './migrations.js';
import { ConfigError } from '../config.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

export interface StoreOptions {
  readonly databaseUrl?: string;
  /** SQLite file directory (ignored for PostgreSQL). */
  readonly dataDir: string;
  /** PostgreSQL schema to work in (tests isolate themselves this way). */
  readonly pgSchema?: string;
  readonly pgPoolSize?: number;
}

// Notification ids are bigserial but stay below 2^53 (SPEC §1.4): read int8 as a number, not a string.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function openStore(options: StoreOptions): Store {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openSqlite(options.dataDir);
}

const WAL_BACKSTOP_PAGES = 65_536;

/**
 * The data directory, created `0700`, with every file in it `0600` (SPEC §15: the SQLite file holds the VAPID
 * private key). Errors name the path and the setting.
 */
export function prepareDataDir(dataDir: string): void {
  try {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dataDir, 0o700);
    for (const name of fs.readdirSync(dataDir)) {
      const file = path.join(dataDir, name);
      if (fs.statSync(file).isFile()) fs.chmodSync(file, 0o600);
    }
    fs.accessSync(dataDir, fs.constants.W_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError('HERALD_DATA_DIR', `cannot create or write the data directory ${dataDir} (${reason}): point HERALD_DATA_DIR at a directory Herald may write`);
  }
}

function openSqlite(dataDir: string): Store {
  prepareDataDir(dataDir);
  const file = new SqliteDatabase(path.join(dataDir, 'herald.sqlite'));
  // Created under the process's umask; the key it holds is nobody else's business.
  fs.chmodSync(file.name, 0o600);
  file.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash may lose the last commits.
  file.pragma('synchronous = NORMAL');
  file.pragma('busy_timeout = 5000');
  // Listing reads one recipient's rows scattered over the file, ingest updates index pages all over it:
  // keep 64 MB of hot pages (ingest at 1M notifications: 5,482 events/s, 5,008 with 32 MB). No memory
  // map: its pages count in the process's resident memory and grew it by up to the map's size on a
  // 1M-notification store (peak RSS 565 MB with a 256 MB map, 251 MB without).
  file.pragma('cache_size = -65536');
  // Checkpoints run in a worker thread (sqlite-checkpointer.ts); this connection only steps in if the WAL
  // passes 256 MB, and the file shrinks back to 64 MB once checkpointed.
  file.pragma('journal_size_limit = 67108864');
  file.pragma(`wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`);
  const checkpointer = startCheckpointer(file.name, () => file.pragma('wal_autocheckpoint = 1000'));
  const cached = withStatementCache(file);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  directReads.set(db, { prepare: (source) => cached.prepare(source), idle: () => !file.inTransaction });
  return {
    db,
    dialect: 'sqlite',
    async close() {
      await checkpointer.stop();
      await db.destroy();
    },
  };
}

/** More bound values than any request's query has (a v2 page of 80 groups binds 240). */
const MAX_CACHED_PARAMETERS = 500;

function countParameters(source: string): number {
  let count = 0;
  for (let i = source.indexOf('?'); i !== -1; i = source.indexOf('?', i + 1)) count++;
  return count;
}

/**
 * Kysely prepares every query anew; hot queries have a handful of shapes, so reusing better-sqlite3's
 * prepared statements saves the parse and plan on every request. Bounded: a flood of distinct shapes
 * (IN lists of every length) only empties the cache.
 */
function withStatementCache(file: BetterSqlite3.Database): BetterSqlite3.Database {
  const cache = new Map<string, KyselyStatement>();
  const prepare = file.prepare.bind(file);
  return Object.assign(Object.create(file) as BetterSqlite3.Database, {
    prepare(source: string) {
      let statement = cache.get(source);
      if (!statement) {
        // A statement built over a long list (one per list length, seldom used twice) holds ~190 KB of
        // native memory: not kept. The hot paths bind their lists as one value instead (bound-lists.ts).
        if (countParameters(source) > MAX_CACHED_PARAMETERS) return withRowBuilder(prepare(source));
        if (cache.size >= 500) cache.clear();
        statement = withRowBuilder(prepare(source));
        cache.set(source, statement);
      }
      return statement;
    },
    close: () => file.close(),
  });
}

/** What Kysely's SqliteDriver uses of a statement (kysely/dist/esm/dialect/sqlite/sqlite-driver.js). */
type KyselyStatement = Pick<BetterSqlite3.Statement, 'reader' | 'all' | 'run' | 'iterate'>;

/**
 * better-sqlite3 builds each row object property by property from C++, which on a page of notifications
 * (14 columns, 40 rows) costs as much as the query itself. Reading rows as arrays and building the objects
 * here is about 40% cheaper (bench: GET /api/v1/notifications profile, `executeQuery` self time). The rows
 * are the same: one property per column name in column order, a later duplicate name overwriting an
 * earlier one's value, as better-sqlite3 does.
 */
function withRowBuilder(statement: BetterSqlite3.Statement): KyselyStatement {
  if (!statement.reader) return statement;
  const names = statement.columns().map((c) => c.name);
  statement.raw(true);
  const toRow = (values: unknown[]): Record<string, unknown> => {
    const row: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) row[names[i]] = values[i];
    return row;
  };
  return {
    reader: true,
    all: (...params: unknown[]) => (statement.all(...params) as unknown[][]).map(toRow),
    run: (...params: unknown[]) => statement.run(...params),
    *iterate(...params: unknown[]) {
      for (const values of statement.iterate(...params) as IterableIterator<unknown[]>) yield toRow(values);
    },
  } as KyselyStatement;
}

function openPostgres(connectionString: string, options: StoreOptions): Store {
  const pool = new pg.Pool({
    connectionString,
    max: options.pgPoolSize ?? 10,
    types: pgTypes,
    options: options.pgSchema ? `-c search_path=${options.pgSchema}` : undefined,
  });
  // An idle client's error (the server restarted) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  pool.on('connect', prepareHotQueries);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

/** Names of the SQL texts executeCached compiled for PostgreSQL: each is prepared once per connection. */
const preparedNames = new Map<string, string>();

/**
 * Kysely sends every query as an unnamed statement, which PostgreSQL parses and plans on every run: about
 * half of a v1 page request's 1.2 ms (bench, PostgreSQL). The client's query is wrapped so that the texts
 * of executeCached's hot shapes go as named statements, parsed and planned once per connection; any
 * other query passes through as it was.
 */
function prepareHotQueries(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((text: unknown, ...rest: unknown[]) => {
    const name = typeof text === 'string' && Array.isArray(rest[0]) ? preparedNames.get(text) : undefined;
    return name === undefined ? query(text, ...rest) : query({ name, text, values: rest[0] }, ...rest.slice(1));
  }) as typeof client.query;
}

/** True when the database answers a trivial query. */
export async function isReachable(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every LIMIT is written into the SQL through this. This SQLite build has STAT4, under which a bound LIMIT
 * (what Kysely makes of `.limit(n)`) makes SQLite plan the statement again on every run: 28–55 µs more per
 * v1 page query, timed on an empty store and on one of 200,000 notifications. Limits are small validated
 * integers, so in a cached query each is a shape of its own (executeCached).
 */
export function literalLimit(limit: number): RawBuilder<number> {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`LIMIT must be a non-negative integer, got ${limit}`);
  return sql.lit(limit);
}

/** Stands for the value at `index` of a cached query's values (see executeCached). */
export class Placeholder {
  constructor(readonly index: number) {}
}

const templates = new WeakMap<object, Map<string, CompiledQuery>>();

/** A SQLite store's connection, for executeCached's reads outside transactions (see there). */
interface DirectReads {
  prepare(source: string): Pick<BetterSqlite3.Statement, 'reader' | 'all'>;
  /** No transaction is open on the connection (Kysely's transactions hold it across awaits). */
  idle(): boolean;
}
const directReads = new WeakMap<Kysely<Database>, DirectReads>();

/**
 * Runs a hot query without building and compiling it every time: the first call of each `shape` builds it
 * with Placeholder(i) where `values[i]` goes, compiles it for this engine, and keeps the SQL; later calls
 * only fill in the values. Kysely's builder and compiler were ~13% of GET /api/v1/notifications (bench
 * profile). `shape` must name everything that changes the SQL (which conditions, list lengths, order),
 * and `build` must read nothing but placeholders from the request: the SQL and its semantics stay exactly
 * what Kysely compiles, on both engines. Without a shape (an unbounded one, say a long list), the query
 * is built with the values in place and nothing is kept.
 */
export async function executeCached<R>(
  db: Db,
  shape: string | undefined,
  values: readonly unknown[],
  build: (param: (index: number) => never) => Compilable<R>,
): Promise<R[]> {
  if (shape === undefined) return (await db.executeQuery<R>(build((index) => values[index] as never).compile())).rows;
  // The compiled SQL depends on the engine only; the adapter is one per store.
  const adapter = db.getExecutor().adapter;
  let byShape = templates.get(adapter);
  if (!byShape) templates.set(adapter, (byShape = new Map()));
  let template = byShape.get(shape);
  if (!template) {
    template = build((index) => new Placeholder(index) as never).compile();
    if (byShape.size >= 200) byShape.clear();
    byShape.set(shape, template);
    // Names are never reused for another text: a connection keeps what it prepared under a name.
    if (adapter instanceof PostgresAdapter && !preparedNames.has(template.sql)) {
      preparedNames.set(template.sql, `herald_${preparedNames.size + 1}`);
    }
  }
  const parameters = template.parameters.map((p) => (p instanceof Placeholder ? values[p.index] : p));
  // On SQLite the statement runs synchronously either way; going round Kysely's connection queue saves
  // ~8 awaits a query, about a tenth of a cached v1 page (two such reads then: the token, the page versions).
  // Only with no transaction open: one holds the connection across awaits, and a read run then would
  // see its uncommitted writes. The same statement and rows as Kysely's SqliteDriver.
  const direct = directReads.get(db as Kysely<Database>);
  if (direct?.idle()) {
    const statement = direct.prepare(template.sql);
    if (statement.reader) return statement.all(parameters) as R[];
  }
  const result = await db.executeQuery<R>({ ...template, parameters, queryId: createQueryId() });
  return result.rows;
}
