// Moves SQLite's WAL checkpoints off the event loop. The automatic checkpoint runs inside the commit that
// crosses its threshold and copies every changed page back into the file with an fsync: on a store of
// 150,000 notifications over 10,000 accounts it was three quarters of a 1,000-event batch's commit (bench:
// `tsx bench/only.ts ingest`, 72 ms of commit with it, 18 ms without). A PASSIVE checkpoint from a second
// connection in a worker thread blocks neither writers nor readers; durability is the WAL's either way.
import { Worker } from 'node:worker_threads';
import { SQLITE_DRIVER_PATH } from './sqlite-driver.js';

/** How often the worker checkpoints; one that finds nothing new costs a few microseconds. */
const INTERVAL_MS = 50;

// Plain CommonJS so the same worker runs from the build, under tsx and under vitest.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
let stopped = false;
parentPort.on('message', () => { stopped = true; });
function checkpoint() {
  if (stopped) { db.close(); parentPort.close(); return; }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Another process's checkpoint is running: the next turn will do.
    if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error;
  }
  setTimeout(checkpoint, workerData.intervalMs);
}
checkpoint();
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Starts checkpointing `file` from a worker thread. `onFailure` hears if the worker dies; the caller's
 * connection then has to checkpoint again itself.
 */
export function startCheckpointer(file: string, onFailure: (error: Error) => void): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver: SQLITE_DRIVER_PATH, file, intervalMs: INTERVAL_MS },
  });
  // The process may exit while the worker idles; a final checkpoint happens when the last connection closes.
  worker.unref();
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.once('error', (error) => {
    if (!stopping) onFailure(error);
  });
  return {
    async stop() {
      stopping = true;
      // Held until it has closed its connection, or the process would end waiting on nothing.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
