// `herald status` and `herald push diagnose --account <id>`: the console's overview and an account's diagnosis
// in the terminal (SPEC §14), read from the same database as every process.
import type { Config } from '../config.js';
import { readAccountDiagnosis, readOrigins, readStatus } from '../console/diagnostics.js';
import { migrateToLatest } from '../store/migrations.js';
import { openStore, type Store } from '../store/open-store.js';
import { readFlags } from './run-cli.js';

async function withStore<T>(config: Config, run: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(config);
  try {
    await migrateToLatest(store.db, store.dialect);
    return await run(store);
  } finally {
    await store.close();
  }
}

export async function statusCommand(config: Config): Promise<number> {
  return withStore(config, async (store) => {
    const now = Date.now();
    const status = await readStatus(store.db, now);
    const { origins } = await readOrigins(store.db, now);
    const lines = [
      `Herald ${status.version}, up ${Math.round(status.uptime_seconds / 60)} min`,
      `processes: ${status.processes.length === 0 ? 'none running' : status.processes.map((p) => `${p.role} ${p.host}:${p.pid} (beat ${p.last_beat})`).join(', ')}`,
      `ingest: ${status.ingest_per_minute} events/min; open streams: ${status.open_streams}`,
      `queue: ${status.queue.due} due, ${status.queue.scheduled} waiting for a retry, ${status.queue.leased} being sent, ` +
        `${status.queue.given_up_last_day} given up in the last day` +
        (status.queue.oldest_due_age_seconds === null ? '' : `; the oldest waits for ${status.queue.oldest_due_age_seconds} s`),
      ...origins.map((o) => {
        const h = o.last_hour;
        const outcomes = Object.entries(h.outcomes).map(([k, v]) => `${v} ${k}`).join(', ') || 'nothing in the last hour';
        const times = h.p50_ms === null ? '' : `; send p50 ${h.p50_ms} ms, p99 ${h.p99_ms} ms`;
        const pause = o.paused_until ? `; PAUSED until ${o.paused_until}` : '';
        const error = o.last_error ? `; last error ${o.last_error.status} at ${o.last_error.at}` : '';
        return `origin ${o.origin}: ${outcomes}${times}${pause}${error}`;
      }),
    ];
    console.log(lines.join('\n'));
    return 0;
  });
}

export async function diagnoseCommand(config: Config, args: readonly string[]): Promise<number> {
  const accountId = readFlags(args).get('account');
  if (!accountId) {
    console.error('herald push diagnose: --account <id> is required');
    return 2;
  }
  return withStore(config, async (store) => {
    const diagnosis = await readAccountDiagnosis(store.db, accountId, Date.now());
    if (!diagnosis) {
      console.error(`herald push diagnose: no account ${accountId}`);
      return 1;
    }
    const marks = { problem: 'PROBLEM', warning: 'warning', ok: 'ok' } as const;
    for (const finding of diagnosis.findings) console.log(`${marks[finding.level]}: ${finding.text}`);
    return 0;
  });
}
