// Runs the real `herald` program in a child process (node --import tsx src/main.ts <role>), listening on
// 127.0.0.1 only, for end-to-end tests that need a server as clients see it or a process to kill.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface HeraldProcess {
  readonly child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** Waits until the output matches, failing after `timeoutMs` or when the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<number | string>;
}

export function startHerald(role: 'serve' | 'web' | 'worker', env: Record<string, string>): HeraldProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HERALD_HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  let gone = false;
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      gone = true;
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  return {
    child,
    output: () => text,
    exited,
    async waitForOutput(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (gone) throw new Error(`herald ${role} exited before printing ${pattern}:\n${text}`);
        if (Date.now() > deadline) throw new Error(`herald ${role} did not print ${pattern} within ${timeoutMs} ms:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async kill(signal) {
      if (!gone) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until `route` answers 2xx, failing at once if the process exits, or after `timeoutMs`. */
export async function waitForReady(
  url: string,
  herald: Pick<HeraldProcess, 'child' | 'output'>,
  timeoutMs = 60_000,
  route = '/readyz',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}${route}`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) return;
    if (herald.child.exitCode !== null || herald.child.signalCode !== null) throw new Error(`herald exited:\n${herald.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`herald did not answer ${route} within ${timeoutMs} ms:\n${herald.output()}`);
}

/** Calls Herald's admin API at `base`; any answer but 200 fails the test, with the answer. */
export async function callAdmin(base: string, token: string, method: string, route: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}/api/admin/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`admin ${method} ${route}: ${res.status} ${await res.text()}`);
  return res.json();
}
