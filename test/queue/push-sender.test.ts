// The sender's I/O rules (SPEC §8.7): the private-address check at connect time, on the resolved and on
// the connected address, unless allow-listed; keep-alive; no redirects; timeouts.
import { execFileSync } from 'node:child_process';
import type { LookupAddress } from 'node:dns';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyNetworkError } from '../../src/push/classify-response.js';
import { EMPTY_ALLOW_LIST, parseAllowList } from '../../src/push/private-address.js';
import { PushError } from '../../src/push/push-errors.js';
import { createPushSender, createSafeLookup, type PushSender, type Resolver } from '../../src/push/sender.js';
import { startPushReceiver, type PushReceiver } from '../support/push-receiver.js';

const request = (url: string) => ({
  url,
  method: 'POST' as const,
  headers: { 'content-type': 'application/octet-stream', ttl: '60' },
  body: Buffer.from('x'),
});

/** A DNS that knows a few names, standing in for an attacker's zone. */
const fakeDns =
  (table: Record<string, readonly LookupAddress[]>): Resolver =>
  async (hostname) => {
    const found = table[hostname];
    if (!found) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found;
  };

describe('push sender', () => {
  let receiver: PushReceiver;
  let port: string;
  const senders: PushSender[] = [];
  const sender = (options: Parameters<typeof createPushSender>[0]) => {
    const s = createPushSender(options);
    senders.push(s);
    return s;
  };
  beforeEach(async () => {
    receiver = await startPushReceiver();
    port = new URL(receiver.url).port;
  });
  afterEach(async () => {
    for (const s of senders.splice(0)) await s.close();
    await receiver.close();
  });

  const rebinding = fakeDns({
    'push.attacker.example': [{ address: '127.0.0.1', family: 4 }],
    'mapped.attacker.example': [{ address: '::ffff:127.0.0.1', family: 6 }],
  });

  it.each(['push.attacker.example', 'mapped.attacker.example'])(
    'refuses a name (%s) that resolves to loopback, before connecting',
    async (host) => {
      const s = sender({ allowList: EMPTY_ALLOW_LIST, resolve: rebinding });
      const error = await s.send(request(`http://${host}:${port}/p`)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PushError);
      expect((error as PushError).code).toBe('ERR_SUBSCRIPTION_INVALID_ENDPOINT');
      expect((error as PushError).message).toMatch(/refusing to connect to .* \((127\.0\.0\.1|::ffff:127\.0\.0\.1)\)/);
      expect(receiver.received).toEqual([]);
      expect(receiver.connections).toBe(0);
      // Our own refusal gives up at once, without touching the subscription.
      expect(classifyNetworkError({ error, now: 0, attempt: 1, baseMs: 1000, random: 0.5 }).kind).toBe('give-up');
    },
  );

  it('refuses loopback IP literals and localhost by the system resolver', async () => {
    const s = sender({ allowList: EMPTY_ALLOW_LIST });
    for (const url of [`http://127.0.0.1:${port}/p`, `http://[::1]:${port}/p`, `http://localhost:${port}/p`]) {
      const error = await s.send(request(url)).catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(PushError);
    }
    expect(receiver.received).toEqual([]);
  });

  it('connects when the host name, its address or a range is allow-listed', async () => {
    for (const allowed of ['push.attacker.example', '127.0.0.1', '127.0.0.0/8']) {
      const s = sender({ allowList: parseAllowList(allowed), resolve: rebinding });
      const response = await s.send(request(`http://push.attacker.example:${port}/ok`));
      expect(response.status, allowed).toBe(201);
    }
    expect(receiver.received).toHaveLength(3);
  });

  it('keeps the connection alive across pushes to one origin', async () => {
    const s = sender({ allowList: parseAllowList('127.0.0.1') });
    for (let i = 0; i < 10; i++) expect((await s.send(request(`${receiver.url}/k`))).status).toBe(201);
    // undici's pool may open a second socket while the first is being returned to it; never one per push.
    expect(receiver.connections).toBeLessThanOrEqual(2);
  });

  it('does not follow redirects', async () => {
    receiver.script('/moved', [{ status: 301, headers: { location: `${receiver.url}/elsewhere` } }]);
    const s = sender({ allowList: parseAllowList('127.0.0.1') });
    const response = await s.send(request(`${receiver.url}/moved`));
    expect(response.status).toBe(301);
    expect(receiver.received.map((r) => r.path)).toEqual(['/moved']);
  });

  it('gives up on a hanging push service after the request timeout, and surfaces a reset', async () => {
    receiver.script('/hang', ['hang']);
    receiver.script('/reset', ['reset']);
    const s = sender({ allowList: parseAllowList('127.0.0.1'), requestTimeoutMs: 200 });
    const started = Date.now();
    const hang = await s.send(request(`${receiver.url}/hang`)).catch((e: unknown) => e);
    expect(hang).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(5000);
    const reset = await s.send(request(`${receiver.url}/reset`)).catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(Error);
    for (const error of [hang, reset]) {
      expect(classifyNetworkError({ error, now: 0, attempt: 1, baseMs: 1000, random: 0.5 }).kind).toBe('retry');
    }
  });

  it('keeps only the beginning of a long answer', async () => {
    receiver.script('/long', [{ status: 400, body: 'x'.repeat(100_000) }]);
    const s = sender({ allowList: parseAllowList('127.0.0.1') });
    const response = await s.send(request(`${receiver.url}/long`));
    expect(response.status).toBe(400);
    expect(response.body.length).toBe(2048);
  });
});

describe('safe lookup', () => {
  const lookup = (allow: string, table: Record<string, readonly LookupAddress[]>, all: boolean) =>
    new Promise<{ error: Error | null; result: unknown }>((resolve) => {
      createSafeLookup(parseAllowList(allow), fakeDns(table))('h.example', { all }, ((error: Error | null, result: unknown) =>
        resolve({ error, result })) as never);
    });

  it('drops private addresses of a mixed answer and keeps the public ones', async () => {
    const table = { 'h.example': [{ address: '10.0.0.1', family: 4 }, { address: '93.184.215.14', family: 4 }, { address: 'fd00::1', family: 6 }] };
    expect((await lookup('', table, true)).result).toEqual([{ address: '93.184.215.14', family: 4 }]);
    expect((await lookup('', table, false)).result).toBe('93.184.215.14');
    expect((await lookup('10.0.0.0/8', table, true)).result).toHaveLength(2);
  });

  it('fails when only private addresses are left', async () => {
    const { error } = await lookup('', { 'h.example': [{ address: '169.254.169.254', family: 4 }] }, true);
    expect(error).toBeInstanceOf(PushError);
  });
});

describe('push sender over TLS', () => {
  const hasOpenssl = (() => {
    try {
      execFileSync('openssl', ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  /** A throwaway certificate for 127.0.0.1, made by the openssl command-line tool. */
  function certificate(): { key: string; cert: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-tls-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      return { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it.skipIf(!hasOpenssl)('speaks HTTP/2 when the push service offers it, HTTP/1.1 otherwise', async () => {
    const { key, cert } = certificate();
    const versions: string[] = [];
    const answer = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => {
      versions.push(req.httpVersion);
      req.resume();
      req.on('end', () => {
        res.writeHead(201);
        res.end();
      });
    };
    const h2 = http2.createSecureServer({ key, cert, allowHTTP1: true }, answer);
    const h1 = https.createServer({ key, cert }, answer);
    const servers = [h2, h1];
    const ports: number[] = [];
    for (const server of servers) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      ports.push((server.address() as AddressInfo).port);
    }
    const s = createPushSender({ allowList: parseAllowList('127.0.0.1'), ca: cert });
    try {
      for (let i = 0; i < 3; i++) expect((await s.send(request(`https://127.0.0.1:${ports[0]}/h2`))).status).toBe(201);
      expect((await s.send(request(`https://127.0.0.1:${ports[1]}/h1`))).status).toBe(201);
      expect(versions).toEqual(['2.0', '2.0', '2.0', '1.1']);
    } finally {
      await s.close();
      for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
