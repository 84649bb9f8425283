// Picks the better-sqlite3 build that is safe on this Node.js. Version 12 and older wrap statements in
// Node's raw ObjectWrap, whose destructor aborts the process on Node 24.19+ when a statement is garbage
// collected (`RemoveEnvironmentCleanupHook: (env) != nullptr`); version 13 (N-API) fixes that but
// crashes on Node 20. Both are installed (13 under the alias better-sqlite3-napi); same API.
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const require = createRequire(import.meta.url);
const major = Number(process.versions.node.split('.')[0]);
const driver = major >= 22 ? 'better-sqlite3-napi' : 'better-sqlite3';

export const SqliteDatabase: typeof BetterSqlite3 = require(driver);

/** The driver's resolved file, for a worker thread that opens the same database (sqlite-checkpointer.ts). */
export const SQLITE_DRIVER_PATH: string = require.resolve(driver);
