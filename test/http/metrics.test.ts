// GET /metrics (SPEC §10): Prometheus text, open by default, behind HERALD_METRICS_TOKEN when it is set.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, ENGINES, type TestApp } from '../support/test-app.js';

describe.each(ENGINES)('metrics on %s', (engine) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('serves request counts by route to anyone when no token is set', async () => {
    t = await createTestApp(engine);
    await t.client(undefined, 'GET', '/api/v1/instance');
    const res = await t.client(undefined, 'GET', '/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('herald_http_requests_total{method="GET",route="/api/v1/instance",status="200"} 1');
  });

  it('answers only the bearer of HERALD_METRICS_TOKEN when it is set', async () => {
    const token = 'metrics-token-0123456789';
    t = await createTestApp(engine, { env: { HERALD_METRICS_TOKEN: token } });
    await t.account('1');
    const client = await t.token('1');
    for (const [given, status] of [
      [undefined, 401],
      ['wrong-token', 401],
      [`${token}x`, 401],
      [client, 401],
      [token, 200],
    ] as const) {
      const res = await t.client(given, 'GET', '/metrics');
      expect(res.statusCode, String(given)).toBe(status);
      if (status === 401) expect(res.json()).toEqual({ error: 'The access token is invalid' });
      else expect(res.body).toContain('# TYPE herald_http_requests_total counter');
    }
  });
});
