// Encrypts push messages on worker threads. A fresh ECDH agreement per message and the rest of RFC 8291
// were 46% of the serving process's main thread at the delivery benchmark's peak (`tsx bench/only.ts
// delivery` with --cpu-prof); on threads they run beside the HTTP and SQL work instead of between it.
// A thread that fails hands its messages back to the main thread: a crash never loses or gives up a push.
import { Worker } from 'node:worker_threads';
import { encryptPush, type EncryptedPush, type PushSubscriptionTarget } from './build-push-request.js';
import { oneShotKeySource, type EphemeralKey } from './keys.js';
import { PushError, type PushErrorCode } from './push-errors.js';
import { pooledRandomBytes } from './random-pool.js';

/** One message for one subscription: its keys as stored, and the payload JSON. */
export type EncryptJob = Pick<PushSubscriptionTarget, 'standard'> & { p256dh: string; auth: string; payload: string };

export type Encrypt = (job: EncryptJob) => Promise<EncryptedPush>;

/** What a thread answers (encryption-thread.ts). */
export type ThreadAnswer =
  | { readonly id: number; readonly result: EncryptedPush }
  | { readonly id: number; readonly error: { readonly code?: PushErrorCode; readonly message: string } };

/** Each key is used at once, in the same synchronous call that draws it. */
const keyNow = oneShotKeySource();

/**
 * Encrypts one job where it is called; the pool's threads run this too (encryption-thread.ts), with keys
 * they generated ahead.
 */
export function encryptJob(job: EncryptJob, createKey: () => EphemeralKey = keyNow): EncryptedPush {
  return encryptPush({ subscription: job, payload: job.payload, random: pooledRandomBytes, createEphemeralKey: createKey });
}

/** What the pool posts to a thread: the jobs started in one turn of the event loop. */
export type ThreadBatch = readonly { readonly id: number; readonly job: EncryptJob }[];

/** On the calling thread: the default, and what a failed thread falls back to. */
export const encryptInline: Encrypt = async (job) => encryptJob(job);

export interface EncryptionPool {
  readonly encrypt: Encrypt;
  close(): Promise<void>;
}

interface Pending {
  readonly job: EncryptJob;
  resolve(result: EncryptedPush): void;
  reject(error: unknown): void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /** Jobs not posted yet: posted together at the end of this turn. */
  outbox: { id: number; job: EncryptJob }[];
  alive: boolean;
}

export interface EncryptionPoolOptions {
  /** Hears of a thread that died; its messages and later ones are then encrypted on the main thread. */
  readonly onFailure?: (error: Error) => void;
  /** Starts one thread (tests watch or stop them). */
  readonly spawn?: () => Worker;
}

/** `threads` workers taking messages in turn, each started with its first message; 0 encrypts inline. */
export function createEncryptionPool(threads: number, options: EncryptionPoolOptions = {}): EncryptionPool {
  if (threads <= 0) return { encrypt: encryptInline, close: async () => {} };
  const { onFailure = () => {}, spawn = spawnEncryptionThread } = options;
  let nextId = 0;
  let turn = 0;
  let closing = false;

  const start = (): Thread => {
    const thread: Thread = { worker: spawn(), pending: new Map(), outbox: [], alive: true };
    // An idle thread must not keep the process alive (close() ends it); a busy one must, or a process
    // waiting only for its answer would end.
    thread.worker.unref();
    thread.worker.on('message', (answers: readonly ThreadAnswer[]) => {
      for (const answer of answers) {
        const pending = thread.pending.get(answer.id);
        if (!pending) continue;
        thread.pending.delete(answer.id);
        if ('result' in answer) pending.resolve(fromClone(answer.result));
        else pending.reject(answer.error.code ? new PushError(answer.error.code, answer.error.message) : new Error(answer.error.message));
      }
      if (thread.pending.size === 0) thread.worker.unref();
    });
    const fail = (error: Error) => {
      if (!thread.alive) return;
      thread.alive = false;
      if (!closing) onFailure(error);
      for (const pending of thread.pending.values()) encryptInline(pending.job).then(pending.resolve, pending.reject);
      thread.pending.clear();
      thread.outbox = [];
    };
    thread.worker.on('error', fail);
    thread.worker.on('exit', (code) => fail(new Error(`encryption thread exited with code ${code}`)));
    return thread;
  };
  const post = (thread: Thread): void => {
    const batch: ThreadBatch = thread.outbox;
    thread.outbox = [];
    if (thread.alive && batch.length > 0) thread.worker.postMessage(batch);
  };
  // Started on first use: a process that sends no pushes (or few) does not carry idle threads' heaps.
  const pool: (Thread | undefined)[] = new Array(threads).fill(undefined);

  return {
    encrypt(job) {
      const slot = turn++ % pool.length;
      const thread = (pool[slot] ??= start());
      if (!thread.alive) return encryptInline(job);
      return new Promise((resolve, reject) => {
        const id = nextId++;
        if (thread.pending.size === 0) thread.worker.ref();
        thread.pending.set(id, { job, resolve, reject });
        // A claim starts all its deliveries in one turn: one message for them all rather than one each
        // (postMessage and the answer's event were ~4% of the main thread at the delivery benchmark's peak).
        if (thread.outbox.push({ id, job }) === 1) queueMicrotask(() => post(thread));
      });
    },
    async close() {
      closing = true;
      await Promise.all(pool.map((thread) => thread?.worker.terminate()));
    },
  };
}

/** Buffers arrive from a thread as plain Uint8Arrays. */
function fromClone(result: EncryptedPush): EncryptedPush {
  const buffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return result.encoding === 'aes128gcm'
    ? { encoding: 'aes128gcm', body: buffer(result.body) }
    : { encoding: 'aesgcm', body: buffer(result.body), senderPublic: buffer(result.senderPublic), salt: buffer(result.salt) };
}

/**
 * The built thread module; from the TypeScript sources (tests, `tsx src/main.ts`) it is loaded through
 * tsx, which a worker does not inherit.
 */
export function spawnEncryptionThread(): Worker {
  const fromSources = import.meta.url.endsWith('.ts');
  const url = new URL(fromSources ? './encryption-thread.ts' : './encryption-thread.js', import.meta.url);
  if (!fromSources) return new Worker(url);
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true });
}
