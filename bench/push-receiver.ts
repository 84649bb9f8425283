// A local push service for the delivery benchmark: answers 201 and notes when each push arrived; on
// request it keeps the bodies too, and decrypts them afterwards (with the independent http_ece) to learn
// which notification each push carried. Decrypting as they arrive cost a third of a core at 1,200 pushes/s
// on the machine under measurement.
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ECDH } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import ece from 'http_ece';

export interface BenchReceiver {
  readonly url: string;
  /** The receiver's self-signed certificate: senders trust it through NODE_EXTRA_CA_CERTS. */
  readonly certFile: string;
  /** Arrival times (performance.now() of this process) in order. */
  readonly arrivals: number[];
  /** Whether to keep each body with its arrival time, for byNotification. */
  keepBodies: boolean;
  /** How many bodies are kept. */
  readonly kept: number;
  /** notification_id → arrival time of every kept body, decrypted now. */
  byNotification(): Map<number, number>;
  waitFor(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** web-push speaks only HTTPS, so the receiver does too (with a throwaway certificate for 127.0.0.1). */
function selfSignedCertificate(): { key: string; cert: string; certFile: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-tls-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}

export async function startBenchReceiver(keys: { ecdh: ECDH; auth: Buffer }): Promise<BenchReceiver> {
  const tls = selfSignedCertificate();
  const arrivals: number[] = [];
  const bodies: { body: Buffer; at: number }[] = [];
  let waiter: { count: number; resolve: () => void } | undefined;
  const receiver = {
    keepBodies: false,
    get kept() {
      return bodies.length;
    },
  } as { keepBodies: boolean; readonly kept: number };
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      arrivals.push(at);
      if (receiver.keepBodies) bodies.push({ body: Buffer.concat(chunks), at });
      res.writeHead(201).end();
      if (waiter && arrivals.length >= waiter.count) waiter.resolve();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(receiver, {
    url,
    certFile: tls.certFile,
    arrivals,
    byNotification() {
      const byId = new Map<number, number>();
      for (const { body, at } of bodies) {
        const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: keys.ecdh, authSecret: keys.auth.toString('base64url') });
        byId.set((JSON.parse(plain.toString()) as { notification_id: number }).notification_id, at);
      }
      return byId;
    },
    waitFor(count: number, timeoutMs: number) {
      if (arrivals.length >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${arrivals.length} of ${count} pushes within ${timeoutMs} ms`)), timeoutMs);
        waiter = {
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  });
}
