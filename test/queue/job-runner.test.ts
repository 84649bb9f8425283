import { describe, expect, it } from 'vitest';
import { createJobRunner } from '../../src/queue/job-runner.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !ready(); i++) await tick();
  if (!ready()) throw new Error(`timed out waiting for ${what}`);
}

/** A queue in memory; jobs finish when the test releases them. */
function harness(concurrency: number, pollIntervalMs = 60_000) {
  const queue: number[] = [];
  const claims: number[] = [];
  const done: number[] = [];
  const release = new Map<number, () => void>();
  let running = 0;
  let peak = 0;
  const runner = createJobRunner<number>({
    concurrency,
    pollIntervalMs,
    async claim(limit) {
      claims.push(limit);
      return queue.splice(0, limit);
    },
    async run(job) {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => release.set(job, resolve));
      running--;
      done.push(job);
    },
    onError: () => {},
  });
  return { runner, queue, claims, done, release, peak: () => peak, running: () => running };
}

describe('job runner', () => {
  it('runs at most `concurrency` jobs and claims more as slots free', async () => {
    const h = harness(3);
    h.queue.push(1, 2, 3, 4, 5, 6, 7);
    h.runner.start();
    await until(() => h.running() === 3, 'three running');
    expect(h.claims).toEqual([3]);
    h.release.get(1)!();
    await until(() => h.running() === 3 && h.release.has(4), 'job 4');
    for (let job = 2; job <= 7; job++) {
      await until(() => h.release.has(job), `job ${job}`);
      h.release.get(job)!();
    }
    await until(() => h.done.length === 7, 'all done');
    expect(h.peak()).toBe(3);
    await h.runner.stop(100);
  });

  it('sleeps until woken when the queue is empty', async () => {
    const h = harness(4);
    h.runner.start();
    await until(() => h.claims.length === 1, 'first claim');
    await tick();
    expect(h.claims).toHaveLength(1);
    h.queue.push(9);
    h.runner.wake();
    await until(() => h.release.has(9), 'woken job');
    h.release.get(9)!();
    await h.runner.stop(100);
    expect(h.done).toEqual([9]);
  });

  it('polls without a wake-up', async () => {
    const h = harness(2, 20);
    h.runner.start();
    await until(() => h.claims.length >= 1, 'first claim');
    h.queue.push(5);
    await until(() => h.release.has(5), 'polled job');
    h.release.get(5)!();
    await h.runner.stop(100);
  });

  it('stops claiming on stop, waits for jobs in flight up to the grace period', async () => {
    const h = harness(2);
    h.queue.push(1, 2, 3);
    h.runner.start();
    await until(() => h.running() === 2, 'two running');
    const stopped = h.runner.stop(5000);
    setTimeout(() => {
      h.release.get(1)!();
      h.release.get(2)!();
    }, 20);
    await stopped;
    expect(h.done.sort()).toEqual([1, 2]);
    expect(h.queue).toEqual([3]);
    // A job that never finishes is abandoned to its lease after the grace period.
    const stuck = harness(1);
    stuck.queue.push(1);
    stuck.runner.start();
    await until(() => stuck.running() === 1, 'stuck job');
    await stuck.runner.stop(30);
    expect(stuck.runner.inFlight).toBe(1);
  });

  it('reports a failing claim and keeps going', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const runner = createJobRunner<number>({
      concurrency: 1,
      pollIntervalMs: 10,
      async claim() {
        calls++;
        if (calls === 1) throw new Error('database down');
        return [];
      },
      run: async () => {},
      onError: (error) => errors.push(error),
    });
    runner.start();
    await until(() => calls >= 3, 'claims after the failure');
    await runner.stop(100);
    expect(errors).toHaveLength(1);
  });
});
