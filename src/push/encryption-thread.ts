// A worker thread of the encryption pool (encryption-pool.ts): encrypts each batch it is sent and answers
// with the results, or the PushError that stopped each message. Between batches it generates ephemeral
// keys ahead, so a burst finds part of each message's work done: createECDH + generateKeys is ~35 µs of
// the ~220 µs a message costs (Node 20 on the 2-core bench machine, unloaded); the ECDH agreement with the
// browser's key (~125 µs) cannot be done before the message is known.
import { parentPort } from 'node:worker_threads';
import type { EncryptedPush } from './build-push-request.js';
import { encryptJob, type ThreadAnswer, type ThreadBatch } from './encryption-pool.js';
import { createEphemeralKey, oneShotKeySource, type EphemeralKey } from './keys.js';
import { isPushError } from './push-errors.js';

/** Keys kept ready: a burst of this many messages per thread; ~3 KB each (3 MB a thread, measured as RSS). */
const KEY_STOCK = 1024;
/** RFC 8291 §3.1: a key pair serves one message only, so a key leaves the stock as it is used. */
const stock: EphemeralKey[] = [];
let filling = false;

/** One key per turn of the event loop, so a batch that arrives meanwhile waits for at most one. */
function fill(): void {
  filling = stock.length < KEY_STOCK;
  if (!filling) return;
  stock.push(createEphemeralKey());
  setImmediate(fill);
}

/** When the stock has run dry: a key used at once by the message that draws it. */
const keyNow = oneShotKeySource();

function takeKey(): EphemeralKey {
  const key = stock.pop() ?? keyNow();
  if (!filling) {
    filling = true;
    setImmediate(fill);
  }
  return key;
}

/**
 * Answers go back a few at a time: a whole claim's batch answered at once held its first push until its
 * last was encrypted (64 × ~300 µs at a burst's start), while one message per answer costs the main
 * thread an event each.
 */
const ANSWER_EVERY = 4;

function encryptOne({ id, job }: ThreadBatch[number], transfer: ArrayBuffer[]): ThreadAnswer {
  try {
    return { id, result: detached(encryptJob(job, takeKey), transfer) };
  } catch (error) {
    return { id, error: isPushError(error) ? { code: error.code, message: error.message } : { message: String(error) } };
  }
}

/**
 * The result's bytes in ArrayBuffers of their own size, listed for transfer. Posted as they come, the body
 * (a slice of Node's shared allocation pool) and the aesgcm salt (a slice of a random block) would each be
 * cloned with their whole backing store: 8 KB a message on Node 20, 64 KB on Node 24, for ~300 bytes.
 */
function detached(result: EncryptedPush, transfer: ArrayBuffer[]): EncryptedPush {
  const own = (bytes: Buffer): Buffer => {
    const copy = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(copy);
    transfer.push(copy.buffer as ArrayBuffer);
    return copy;
  };
  return result.encoding === 'aes128gcm'
    ? { encoding: 'aes128gcm', body: own(result.body) }
    : { encoding: 'aesgcm', body: own(result.body), senderPublic: own(result.senderPublic), salt: own(result.salt) };
}

const port = parentPort!;
port.on('message', (batch: ThreadBatch) => {
  for (let i = 0; i < batch.length; i += ANSWER_EVERY) {
    const transfer: ArrayBuffer[] = [];
    port.postMessage(
      batch.slice(i, i + ANSWER_EVERY).map((item) => encryptOne(item, transfer)),
      transfer,
    );
  }
});
fill();
