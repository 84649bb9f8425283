// What every benchmark needs: a Herald server in its own process, seeding through the admin API, and
// the machine facts recorded beside the figures.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/free-port.js';


export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export interface RunningServer {
  readonly url: string;
  readonly process: ChildProcess;
  readonly dataDir: string;
  /** Peak resident memory of the process so far, in MB (sampled). */
  peakRssMb(): number;
  stop(): Promise<void>;
}

function rssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export async function waitForHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up within ${timeoutMs} ms`);
}

/** Starts a node program on a free port; `healthPath` answers 200 once it is ready. */
export async function startProcess(
  args: readonly string[],
  env: Record<string, string>,
  healthPath: string,
): Promise<RunningServer> {
  const port = await freePort();
  const ownDataDir = env.HERALD_DATA_DIR === undefined;
  const dataDir = env.HERALD_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HERALD_HOST: '127.0.0.1', HERALD_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}${healthPath}`);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(child.pid!))), 250);
  return {
    url,
    process: child,
    dataDir,
    peakRssMb: () => Math.max(peak, rssMb(child.pid!)),
    async stop() {
      peak = Math.max(peak, rssMb(child.pid!));
      clearInterval(sampler);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      // A full run's store is several hundred MB: do not leave one behind per run.
      if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Herald runs with the heap cap its launchers give it (`npm start`, deploy/herald.service); then
 * BENCH_HERALD_NODE_ARGS (say `--cpu-prof --cpu-prof-dir=/tmp/prof`), which goes to the Herald process only.
 */
const heraldNodeArgs = ['--max-old-space-size=1024', ...(process.env.BENCH_HERALD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')];

export function startHerald(env: Record<string, string> = {}): Promise<RunningServer> {
  return startProcess(
    [...heraldNodeArgs, path.join(ROOT, 'dist/main.js'), 'serve'],
    { HERALD_ADMIN_TOKEN: ADMIN_TOKEN, HERALD_RATE_LIMITS: 'off', ...env },
    '/healthz',
  );
}

export async function admin(base: string, method: string, url: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}/api/admin/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export function machine(): Record<string, unknown> {
  return { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, platform: `${os.platform()} ${os.arch()}` };
}
