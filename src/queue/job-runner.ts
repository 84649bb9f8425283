// The one loop for durable background jobs (STYLE "One runner"): claim due jobs with a lease, run up to
// `concurrency` of them at once, claim more as slots free up, and sleep until woken (a notification was
// committed) or the poll interval passes (retries come due, another process queued work, a crashed
// worker's lease ran out). What a job is and how it is claimed belongs to the caller; durability belongs
// to the store (a claimed job that never finishes is claimed again when its lease expires).

export interface JobRunnerOptions<J> {
  /** Claims up to `limit` due jobs, leasing them to this runner. */
  claim(limit: number): Promise<J[]>;
  /** Runs one job; a throw is reported and the job is left to its lease. */
  run(job: J): Promise<void>;
  /** Jobs in flight at most. */
  readonly concurrency: number;
  /** Sleep between claims when nothing woke the runner. */
  readonly pollIntervalMs: number;
  onError(error: unknown, job: J | undefined): void;
  /** Injected timers, so a test can drive the loop. */
  readonly setTimer?: (fn: () => void, ms: number) => { unref?(): void };
  readonly clearTimer?: (timer: unknown) => void;
}

export interface JobRunner {
  start(): void;
  /** Claim now rather than at the next poll. */
  wake(): void;
  /**
   * Stops claiming and waits for the jobs in flight, at most `graceMs`; jobs still running then are
   * abandoned to their leases, which expire and let another worker send them.
   */
  stop(graceMs?: number): Promise<void>;
  readonly inFlight: number;
}

export function createJobRunner<J>(options: JobRunnerOptions<J>): JobRunner {
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const clearTimer = options.clearTimer ?? ((timer: unknown) => clearTimeout(timer as NodeJS.Timeout));
  const running = new Set<Promise<void>>();
  let started = false;
  let stopping = false;
  let woken = false;
  let loopDone: Promise<void> = Promise.resolve();
  let signal: (() => void) | null = null;

  const notify = (): void => {
    const resolve = signal;
    signal = null;
    resolve?.();
  };

  /** Waits for a wake-up, a finished job, or the poll interval. */
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimer(() => {
        signal = null;
        resolve();
      }, ms);
      timer.unref?.();
      signal = () => {
        clearTimer(timer);
        resolve();
      };
    });

  /** The last claim filled every free slot, so more jobs may be due: freed slots are worth a claim. */
  let mayHaveMore = false;
  // Claim in batches rather than one row per finished job: a claim is a write, as dear as a send's
  // bookkeeping, so waiting for an eighth of the slots to free halves the queries at full load.
  const claimBatch = Math.max(1, Math.floor(options.concurrency / 8));

  async function loop(): Promise<void> {
    while (!stopping) {
      woken = false;
      const free = options.concurrency - running.size;
      if (free > 0) {
        let jobs: J[] = [];
        try {
          jobs = await options.claim(free);
        } catch (error) {
          // The store is down or busy: report, and try again at the next poll.
          options.onError(error, undefined);
        }
        for (const job of jobs) launch(job);
        mayHaveMore = jobs.length === free;
      }
      if (stopping) break;
      if (woken && running.size < options.concurrency) continue;
      await sleep(options.pollIntervalMs);
    }
  }

  function launch(job: J): void {
    const task = options
      .run(job)
      .catch((error: unknown) => options.onError(error, job))
      .finally(() => {
        running.delete(task);
        if (mayHaveMore && options.concurrency - running.size >= claimBatch) notify();
      });
    running.add(task);
  }

  return {
    start() {
      if (started) return;
      started = true;
      loopDone = loop();
    },
    wake() {
      woken = true;
      notify();
    },
    async stop(graceMs = 30_000) {
      stopping = true;
      notify();
      await loopDone;
      if (running.size === 0) return;
      let timer: unknown;
      const grace = new Promise<void>((resolve) => {
        const t = setTimer(resolve, graceMs);
        t.unref?.();
        timer = t;
      });
      await Promise.race([Promise.allSettled([...running]), grace]);
      clearTimer(timer);
    },
    get inFlight() {
      return running.size;
    },
  };
}
