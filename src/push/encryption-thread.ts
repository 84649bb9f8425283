// A worker thread of the encryption pool (encryption-pool.ts): encrypts what it is sent, one message at a
// time, and answers with the result or the PushError that stopped it.
import { randomBytes } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { encryptPush } from './build-push-request.js';
import { createEphemeralKey } from './keys.js';
import { isPushError } from './push-errors.js';
import type { EncryptJob, ThreadAnswer } from './encryption-pool.js';

const port = parentPort!;
port.on('message', ({ id, job }: { id: number; job: EncryptJob }) => {
  let answer: ThreadAnswer;
  try {
    answer = { id, result: encryptPush({ subscription: job, payload: job.payload, random: randomBytes, createEphemeralKey }) };
  } catch (error) {
    answer = { id, error: isPushError(error) ? { code: error.code, message: error.message } : { message: String(error) } };
  }
  port.postMessage(answer);
});
