// Prometheus metrics of the HTTP side (SPEC §10) and the GET /metrics route. The registry is passed in,
// never prom-client's global one, so each app (and each test) counts only its own requests; the
// delivery worker registers its metrics (src/queue/delivery-metrics.ts) in the same registry.
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';
import { bearerCheck } from './auth.js';

/** Requests that matched no route share one label, so scanners cannot grow the label set. */
const UNMATCHED = 'unmatched';

/** `token`: HERALD_METRICS_TOKEN; when set, GET /metrics answers only `Authorization: Bearer <token>`. */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry, token?: string): void {
  const requests = new Counter({
    name: 'herald_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'Time from receiving a request to sending the answer, by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Each label set's child kept: prom-client hashes the label object on every inc() and observe() otherwise
  // (~3% of a cached v1 page, bench profile). Bounded: route templates, methods and status codes are few.
  const children = new Map<string, { count: Counter.Internal; time: Histogram.Internal<'method' | 'route'> }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    const status = String(reply.statusCode);
    const key = `${request.method} ${route} ${status}`;
    let child = children.get(key);
    if (!child) {
      child = { count: requests.labels(request.method, route, status), time: latency.labels(request.method, route) };
      children.set(key, child);
    }
    child.count.inc();
    child.time.observe(reply.elapsedTime / 1000);
    done();
  });
  const allowed = token === undefined ? () => true : bearerCheck(token);
  app.get('/metrics', async (request, reply) => {
    // Answered here rather than through the error table: the probes-only server has no error handler.
    if (!allowed(request)) {
      return reply.code(401).type('application/json; charset=utf-8').send({ error: 'The access token is invalid' });
    }
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
