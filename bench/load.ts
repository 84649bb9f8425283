// One load run with autocannon: requests per second and latency percentiles.
import autocannon from 'autocannon';

export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

export async function load(options: {
  url: string;
  path: string;
  tokens?: readonly string[];
  seconds: number;
  connections: number;
  /** Fixed overall rate in requests per second; unset means as fast as possible. */
  rate?: number;
}): Promise<LoadResult> {
  let i = 0;
  const tokens = options.tokens ?? [];
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    overallRate: options.rate,
    requests: [
      {
        method: 'GET',
        path: options.path,
        setupRequest: (req) => {
          if (tokens.length > 0) req.headers = { ...req.headers, authorization: `Bearer ${tokens[i++ % tokens.length]}` };
          return req;
        },
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
