// A worker thread of the encryption pool (encryption-pool.ts): encrypts what it is sent, one message at a
// time, and answers with the result or the PushError that stopped it.
import { parentPort } from 'node:worker_threads';
import { encryptJob, type EncryptJob, type ThreadAnswer } from './encryption-pool.js';
import { isPushError } from './push-errors.js';

const port = parentPort!;
port.on('message', ({ id, job }: { id: number; job: EncryptJob }) => {
  let answer: ThreadAnswer;
  try {
    answer = { id, result: encryptJob(job) };
  } catch (error) {
    answer = { id, error: isPushError(error) ? { code: error.code, message: error.message } : { message: String(error) } };
  }
  port.postMessage(answer);
});
