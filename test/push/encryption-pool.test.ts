// The encryption pool: messages encrypted on worker threads decrypt with an independent implementation
// (http_ece), a thread's PushError comes back as one, and a thread that dies hands its work back to the
// main thread without losing a message.
import { createECDH, randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import ece from 'http_ece';
import { afterEach, describe, expect, it } from 'vitest';
import type { EncryptedPush } from '../../src/push/build-push-request.js';
import { createEncryptionPool, spawnEncryptionThread, type EncryptionPool, type EncryptJob } from '../../src/push/encryption-pool.js';
import { PushError } from '../../src/push/push-errors.js';

function browser() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const authSecret = randomBytes(16);
  const keys = { p256dh: ecdh.getPublicKey().toString('base64url'), auth: authSecret.toString('base64url') };
  const decrypt = (message: EncryptedPush): string => {
    const plain =
      message.encoding === 'aes128gcm'
        ? ece.decrypt(message.body, { version: 'aes128gcm', privateKey: ecdh, authSecret })
        : ece.decrypt(message.body, { version: 'aesgcm', privateKey: ecdh, authSecret, dh: message.senderPublic, salt: message.salt });
    return plain.toString('utf8');
  };
  return { keys, decrypt };
}

describe('encryption pool', () => {
  let pool: EncryptionPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it.each([
    ['aes128gcm', true],
    ['aesgcm', false],
  ])('encrypts %s on its threads for http_ece to decrypt', async (encoding, standard) => {
    pool = createEncryptionPool(2);
    const ua = browser();
    const payloads = Array.from({ length: 20 }, (_, i) => JSON.stringify({ notification_id: i, title: `é ${i}` }));
    const messages = await Promise.all(payloads.map((payload) => pool!.encrypt({ ...ua.keys, standard, payload })));
    expect(messages.map((m) => m.encoding)).toEqual(payloads.map(() => encoding));
    expect(messages.every((m) => Buffer.isBuffer(m.body))).toBe(true);
    expect(messages.map(ua.decrypt)).toEqual(payloads);
    // A fresh ephemeral key and salt for every message.
    expect(new Set(messages.map((m) => m.body.subarray(0, 16).toString('hex'))).size).toBe(payloads.length);
    const senderKeys = messages.map((m) => (m.encoding === 'aes128gcm' ? m.body.subarray(21, 86) : m.senderPublic).toString('hex'));
    expect(new Set(senderKeys).size).toBe(payloads.length);
    // Each buffer came over on its own: not a view of a thread's shared pool, cloned whole with it.
    const buffers = messages.flatMap((m) => (m.encoding === 'aes128gcm' ? [m.body] : [m.body, m.senderPublic, m.salt]));
    expect(buffers.every((b) => b.byteOffset === 0 && b.buffer.byteLength === b.byteLength)).toBe(true);
  });

  it('answers a bad key with the PushError the thread raised', async () => {
    pool = createEncryptionPool(1);
    const job: EncryptJob = { p256dh: Buffer.alloc(65, 4).toString('base64url'), auth: randomBytes(16).toString('base64url'), standard: true, payload: '{}' };
    const error = await pool.encrypt(job).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PushError);
    expect((error as PushError).code).toBe('ERR_SUBSCRIPTION_INVALID_KEY');
  });

  it('encrypts on the main thread once a thread has died, and says so', async () => {
    const failures: Error[] = [];
    const workers: Worker[] = [];
    const spawn = () => {
      const worker = spawnEncryptionThread();
      workers.push(worker);
      return worker;
    };
    pool = createEncryptionPool(1, { onFailure: (error) => failures.push(error), spawn });
    // Threads start with their first message, not before.
    expect(workers).toHaveLength(0);
    const ua = browser();
    expect(ua.decrypt(await pool.encrypt({ ...ua.keys, standard: true, payload: 'before' }))).toBe('before');
    // The thread ends while messages are in flight: they and later ones still arrive.
    const inFlight = Array.from({ length: 50 }, (_, i) => pool!.encrypt({ ...ua.keys, standard: true, payload: `during ${i}` }));
    await workers[0].terminate();
    const during = await Promise.all(inFlight);
    expect(during.map(ua.decrypt)).toEqual(Array.from({ length: 50 }, (_, i) => `during ${i}`));
    expect(ua.decrypt(await pool.encrypt({ ...ua.keys, standard: false, payload: 'after' }))).toBe('after');
    expect(workers).toHaveLength(1);
    expect(failures).toHaveLength(1);
  });

  it('with no threads, encrypts on the calling thread', async () => {
    pool = createEncryptionPool(0, { spawn: () => expect.unreachable('no thread is started') as never });
    const ua = browser();
    expect(ua.decrypt(await pool.encrypt({ ...ua.keys, standard: false, payload: 'here' }))).toBe('here');
  });
});
