// This process's heartbeat (SPEC §16): a row with its role, host and pid, beaten every few seconds and
// removed at a clean stop; rows of processes quiet for a day are pruned by whoever beats.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Db } from '../store/schema.js';
import { pruneProcesses, recordBeat, removeProcess } from '../store/processes.js';
import type { ProcessActivity } from './process-activity.js';

export const BEAT_EVERY_MS = 5_000;
const FORGET_AFTER_MS = 24 * 60 * 60_000;

export async function startHeartbeat(deps: {
  db: Db;
  role: string;
  now: () => number;
  activity: ProcessActivity;
  onError: (error: unknown) => void;
}): Promise<() => Promise<void>> {
  const self = { id: randomUUID(), role: deps.role, host: os.hostname(), pid: process.pid, startedAt: deps.now() };
  // The first beat says only that the process is up.
  const beat = async (): Promise<void> => {
    const now = deps.now();
    await recordBeat(deps.db, self, now, deps.activity.sample(now));
    await pruneProcesses(deps.db, now - FORGET_AFTER_MS);
  };
  await beat();
  const timer = setInterval(() => beat().catch(deps.onError), BEAT_EVERY_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await removeProcess(deps.db, self.id);
  };
}
