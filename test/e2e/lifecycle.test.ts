// Process lifecycle against the real program (SPEC §15): clean shutdown on SIGTERM/SIGINT (streams closed,
// in-flight requests finished, one `stopped` line, exit 0), `npm start` leaving no orphan, start-up errors
// that name the setting and start nothing, `--help` that starts nothing, a worker whose probe port is taken,
// and the modes of the files Herald writes.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { accountJson } from '../support/fixtures.js';
import { freePort } from '../support/free-port.js';
import { startHerald, type HeraldProcess, waitForReady } from '../support/herald-process.js';
import { within } from '../support/stream-clients.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ADMIN = 'lifecycle-admin-token-0123456789';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves true when something accepts a TCP connection on 127.0.0.1:port, false when it is refused. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connecting to 127.0.0.1:${port} neither succeeded nor failed within 2 s`));
    }, 2_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ECONNREFUSED') resolve(false);
      else reject(error);
    });
  });
}

/** Runs `herald <args>` to its end (bounded), with only the given settings. */
function runHerald(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HERALD_HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`herald ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Let the pipes drain what was written just before the exit.
      setImmediate(() => resolve({ code: code ?? signal ?? 'unknown', output }));
    });
  });
}

const stoppedLines = (output: string): string[] => output.split('\n').filter((line) => line.includes('"msg":"stopped"'));

const tempDirs: string[] = [];
const tempDir = (prefix = 'herald-lifecycle-'): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
};
const processes: HeraldProcess[] = [];
const servers: net.Server[] = [];

afterEach(async () => {
  for (const p of processes.splice(0)) await within(p.kill('SIGKILL'), 10_000, 'a killed herald exiting').catch(() => {});
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Holds 127.0.0.1:port with a plain TCP server of this test process. */
async function occupy(port: number): Promise<net.Server> {
  const server = net.createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

describe('shutdown on a signal', () => {
  const serveWith = async (): Promise<{ herald: HeraldProcess; url: string; port: number }> => {
    const port = await freePort();
    const herald = startHerald('serve', {
      PORT: String(port),
      HERALD_DATA_DIR: tempDir(),
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_VAPID_SUBJECT: 'mailto:lifecycle@herald.test',
      HERALD_RATE_LIMITS: 'off',
      LOG_LEVEL: 'info',
    });
    processes.push(herald);
    const url = `http://127.0.0.1:${port}`;
    await waitForReady(url, herald);
    return { herald, url, port };
  };

  const admin = async (url: string, method: string, route: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${url}/api/admin/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    if (res.status !== 200) throw new Error(`admin ${method} ${route}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  /** A PUT of account `id` whose headers and first half of the body are sent now, the rest on `finish()`. */
  const partialPut = (url: string, id: string, agent: http.Agent | false) => {
    const body = Buffer.from(JSON.stringify(accountJson(id, { display_name: 'Late Arrival' })));
    const half = Math.floor(body.length / 2);
    const req = http.request(`${url}/api/admin/v1/accounts/${id}`, {
      method: 'PUT',
      agent,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'content-length': String(body.length) },
    });
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
    });
    req.flushHeaders();
    req.write(body.subarray(0, half));
    return { answer, finish: () => req.end(body.subarray(half)) };
  };

  it('SIGTERM closes streams, lets an in-flight request finish, logs one "stopped" line and exits 0', { timeout: 45_000 }, async () => {
    const { herald, url, port } = await serveWith();
    await admin(url, 'PUT', '/accounts/1', accountJson('1'));
    const { access_token: token } = await admin(url, 'POST', '/tokens', { account_id: '1', scopes: 'read write push' });

    // An SSE stream: record whether the server ended the response (not just dropped the connection).
    const sse = await within(
      new Promise<{ ended: Promise<'end' | 'aborted'> }>((resolve, reject) => {
        const req = http.get(`${url}/api/v1/streaming/user/notification`, { headers: { authorization: `Bearer ${token}` } });
        req.on('error', reject);
        req.on('response', (res) => {
          if (res.statusCode !== 200) return reject(new Error(`SSE answered ${res.statusCode}`));
          res.resume();
          const ended = new Promise<'end' | 'aborted'>((done) => {
            res.on('end', () => done('end'));
            res.on('aborted', () => done('aborted'));
            res.on('error', () => done('aborted'));
          });
          resolve({ ended });
        });
      }),
      5_000,
      'the SSE stream opening',
    );

    // A WebSocket with the token as its subprotocol: record the close code.
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/streaming?stream=user:notification`, token);
    const wsClosed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      5_000,
      'the WebSocket opening',
    );

    // An in-flight request: headers and half of the body now, the rest after the signal. `agent: false`:
    // a connection of its own that is closed after the answer (the keep-alive case is the test below).
    const inFlight = partialPut(url, '2', false);
    // Give the server time to take the request in before the signal.
    await sleep(300);

    const signalledAt = Date.now();
    herald.child.kill('SIGTERM');
    await herald.waitForOutput(/"msg":"shutting down"/, 5_000);

    // The streams close while the request is still waiting for its body.
    expect(await within(wsClosed, 5_000, 'the WebSocket closing')).toBe(1001);
    expect(await within(sse.ended, 5_000, 'the SSE response ending')).toBe('end');
    expect(herald.child.exitCode).toBeNull();

    inFlight.finish();
    const { status, text } = await within(inFlight.answer, 8_000, 'the in-flight request answering');
    expect(status, text).toBe(200);
    expect(JSON.parse(text)).toMatchObject({ id: '2', display_name: 'Late Arrival' });

    const code = await within(herald.exited, Math.max(0, 10_000 - (Date.now() - signalledAt)), 'herald exiting after SIGTERM');
    expect(code, herald.output()).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(stoppedLines(herald.output()), herald.output()).toHaveLength(1);
    expect(await accepts(port)).toBe(false);
  });

  // Regression: a request in flight at the signal was answered with `Connection: keep-alive`, and the
  // connection, idle from then on, held the shutdown until the 10 s grace cut it.
  it('SIGTERM: a keep-alive client of an in-flight request does not hold the shutdown', { timeout: 30_000 }, async () => {
    const { herald, url } = await serveWith();
    const agent = new http.Agent({ keepAlive: true });
    try {
      const inFlight = partialPut(url, '3', agent);
      await sleep(300);
      herald.child.kill('SIGTERM');
      await herald.waitForOutput(/"msg":"shutting down"/, 5_000);
      inFlight.finish();
      const { status, text } = await within(inFlight.answer, 8_000, 'the in-flight request answering');
      expect(status, text).toBe(200);
      // Nothing is in flight any more: shutdown completes promptly.
      expect(await within(herald.exited, 3_000, 'herald exiting once the in-flight request was answered')).toBe(0);
    } finally {
      agent.destroy();
    }
  });

  it('SIGINT exits 0 with one "stopped" line', { timeout: 30_000 }, async () => {
    const { herald, port } = await serveWith();
    const signalledAt = Date.now();
    herald.child.kill('SIGINT');
    const code = await within(herald.exited, 10_000, 'herald exiting after SIGINT');
    expect(code, herald.output()).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    const stopped = stoppedLines(herald.output());
    expect(stopped, herald.output()).toHaveLength(1);
    expect(JSON.parse(stopped[0])).toMatchObject({ signal: 'SIGINT' });
    expect(await accepts(port)).toBe(false);
  });
});

describe('npm start', () => {
  let npm: ChildProcess | undefined;
  afterEach(() => {
    // The npm process was started in a process group of its own: whatever it left behind goes with it.
    if (npm?.pid !== undefined) {
      try {
        process.kill(-npm.pid, 'SIGKILL');
      } catch {
        // Nothing left.
      }
    }
    npm = undefined;
  });

  it('stops Herald on SIGTERM to the npm process, leaving nothing listening', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const dataDir = tempDir();
    const child = spawn('npm', ['start'], {
      cwd: ROOT,
      env: {
        // The node running these tests first, so that npm and Herald run on it.
        PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
        HOME: process.env.HOME ?? os.homedir(),
        PORT: String(port),
        HERALD_HOST: '127.0.0.1',
        HERALD_DATA_DIR: dataDir,
        HERALD_ADMIN_TOKEN: ADMIN,
        HERALD_VAPID_SUBJECT: 'mailto:lifecycle@herald.test',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    npm = child;
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));

    // The build (prestart) comes first.
    await waitForReady(`http://127.0.0.1:${port}`, { child, output: () => output }, 90_000, '/healthz');

    child.kill('SIGTERM');
    const code = await within(exited, 15_000, 'npm start exiting after SIGTERM');
    expect(code, output).toBe(0);
    // Herald stopped listening at once; nothing orphaned keeps the port.
    let listening = await accepts(port);
    for (let i = 0; listening && i < 20; i++) {
      await sleep(100);
      listening = await accepts(port);
    }
    expect(listening, `something still listens on ${port} after npm start exited:\n${output}`).toBe(false);
  });
});

describe('start-up errors', () => {
  const noStartLines = (output: string): void => {
    expect(output).not.toMatch(/herald is listening/);
    expect(output).not.toMatch(/delivery worker started/);
    expect(output).not.toMatch(/worker probes and metrics listening/);
  };

  it('an unreachable DATABASE_URL names the setting and the host, exits 78 and starts nothing', { timeout: 30_000 }, async () => {
    const [port, dbPort] = [await freePort(), await freePort()];
    const { code, output } = await runHerald(['serve'], {
      PORT: String(port),
      HERALD_DATA_DIR: tempDir(),
      HERALD_ADMIN_TOKEN: ADMIN,
      DATABASE_URL: `postgres://herald:herald@127.0.0.1:${dbPort}/x`,
    });
    expect(code, output).toBe(78);
    expect(output).toContain('DATABASE_URL');
    expect(output).toContain(`127.0.0.1:${dbPort}`);
    // The password is not repeated.
    expect(output).not.toContain('herald:herald@');
    noStartLines(output);
    expect(await accepts(port)).toBe(false);
  });

  it('a data directory that cannot be created names HERALD_DATA_DIR and the path, exits 78 and starts nothing', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, 'not a directory\n');
    const dataDir = path.join(file, 'data');
    const { code, output } = await runHerald(['serve'], { PORT: String(port), HERALD_DATA_DIR: dataDir });
    expect(code, output).toBe(78);
    expect(output).toContain('HERALD_DATA_DIR');
    expect(output).toContain(dataDir);
    noStartLines(output);
    // No admin token was minted either.
    expect(output).not.toMatch(/Admin token/);
    expect(await accepts(port)).toBe(false);
  });

  it('a port in use names PORT, exits 78 and starts no worker', { timeout: 30_000 }, async () => {
    const port = await freePort();
    await occupy(port);
    const { code, output } = await runHerald(['serve'], {
      PORT: String(port),
      HERALD_DATA_DIR: tempDir(),
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_VAPID_SUBJECT: 'mailto:lifecycle@herald.test',
    });
    expect(code, output).toBe(78);
    expect(output).toMatch(/\bPORT\b/);
    expect(output).toContain(`127.0.0.1:${port}`);
    noStartLines(output);
  });
});

describe('herald serve --help', () => {
  it('prints the usage and exits 0 without listening', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const dataDir = path.join(tempDir(), 'data');
    const { code, output } = await runHerald(['serve', '--help'], { PORT: String(port), HERALD_DATA_DIR: dataDir, HERALD_ADMIN_TOKEN: ADMIN });
    expect(code, output).toBe(0);
    expect(output).toContain('Usage: herald');
    expect(output).not.toMatch(/listening/);
    expect(await accepts(port)).toBe(false);
    // Nothing was opened either.
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});

describe('herald worker whose probe port is taken', () => {
  it('warns, keeps running without probes, and exits 0 on SIGTERM', { timeout: 30_000 }, async () => {
    const port = await freePort();
    await occupy(port);
    const worker = startHerald('worker', {
      PORT: String(port),
      HERALD_DATA_DIR: tempDir(),
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_VAPID_SUBJECT: 'mailto:lifecycle@herald.test',
      LOG_LEVEL: 'info',
    });
    processes.push(worker);
    await worker.waitForOutput(/running without them/, 20_000);
    await worker.waitForOutput(/delivery worker started/, 5_000);
    await sleep(2_000);
    expect(worker.child.exitCode, worker.output()).toBeNull();
    expect(worker.child.signalCode).toBeNull();

    worker.child.kill('SIGTERM');
    const code = await within(worker.exited, 10_000, 'the worker exiting after SIGTERM');
    expect(code, worker.output()).toBe(0);
    expect(stoppedLines(worker.output())).toHaveLength(1);
  });
});

describe('file modes', () => {
  const mode = (p: string): number => fs.statSync(p).mode & 0o777;
  const fileModes = (dir: string): Record<string, string> =>
    Object.fromEntries(
      fs
        .readdirSync(dir)
        .filter((name) => fs.statSync(path.join(dir, name)).isFile())
        .map((name) => [name, mode(path.join(dir, name)).toString(8)]),
    );

  const serveOn = async (dataDir: string): Promise<HeraldProcess> => {
    const port = await freePort();
    const herald = startHerald('serve', {
      PORT: String(port),
      HERALD_DATA_DIR: dataDir,
      HERALD_VAPID_SUBJECT: 'mailto:lifecycle@herald.test',
      LOG_LEVEL: 'warn',
    });
    processes.push(herald);
    await waitForReady(`http://127.0.0.1:${port}`, herald);
    return herald;
  };
  const stop = async (herald: HeraldProcess): Promise<void> => {
    herald.child.kill('SIGTERM');
    expect(await within(herald.exited, 10_000, 'herald exiting after SIGTERM'), herald.output()).toBe(0);
  };

  it('a fresh data directory is 0700 and every file in it 0600', { timeout: 30_000 }, async () => {
    const dataDir = path.join(tempDir(), 'data');
    const herald = await serveOn(dataDir);
    // No HERALD_ADMIN_TOKEN: the generated one is printed once and saved.
    expect(herald.output()).toMatch(/Admin token \(saved in /);
    const check = (): void => {
      expect(mode(dataDir).toString(8)).toBe('700');
      const files = fileModes(dataDir);
      expect(Object.keys(files)).toEqual(expect.arrayContaining(['herald.sqlite', 'admin-token']));
      expect(files).toEqual(Object.fromEntries(Object.keys(files).map((name) => [name, '600'])));
    };
    check(); // while running (with -wal and -shm)
    await stop(herald);
    check(); // and after
  });

  it('tightens a pre-existing 0755 data directory and its 0644 files at start', { timeout: 30_000 }, async () => {
    const dataDir = path.join(tempDir(), 'data');
    fs.mkdirSync(dataDir);
    fs.chmodSync(dataDir, 0o755);
    fs.writeFileSync(path.join(dataDir, 'admin-token'), `${ADMIN}\n`);
    fs.chmodSync(path.join(dataDir, 'admin-token'), 0o644);
    fs.writeFileSync(path.join(dataDir, 'notes.txt'), 'left here by the operator\n');
    fs.chmodSync(path.join(dataDir, 'notes.txt'), 0o644);

    const herald = await serveOn(dataDir);
    // The saved token is used, not printed again.
    expect(herald.output()).not.toMatch(/Admin token/);
    expect(mode(dataDir).toString(8)).toBe('700');
    const files = fileModes(dataDir);
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['herald.sqlite', 'admin-token', 'notes.txt']));
    expect(files).toEqual(Object.fromEntries(Object.keys(files).map((name) => [name, '600'])));
    await stop(herald);
  });
});
