// What this process is doing, for its heartbeat row (SPEC §14 "ingest rate, open streams"): the console reads
// it from the database, so every process and the CLI show the same.
export interface ProcessActivity {
  /** Events this process accepted through the admin API. */
  countIngested(events: number): void;
  /** Where the open-stream count comes from (the streaming routes). */
  countStreamsWith(count: () => number): void;
  /** Events per minute since the last call, and streams open now. */
  sample(now: number): { ingestPerMinute: number; openStreams: number };
}

export function createProcessActivity(startedAt: number): ProcessActivity {
  let ingested = 0;
  let since = startedAt;
  let streams = (): number => 0;
  return {
    countIngested(events) {
      ingested += events;
    },
    countStreamsWith(count) {
      streams = count;
    },
    sample(now) {
      const minutes = Math.max(now - since, 1000) / 60_000;
      const ingestPerMinute = Math.round(ingested / minutes);
      ingested = 0;
      since = now;
      return { ingestPerMinute, openStreams: streams() };
    },
  };
}
