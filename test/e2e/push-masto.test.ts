// End to end as a client app sees it: the real `herald serve` over HTTP on 127.0.0.1, a subscription
// made with the masto.js client library, events posted through the admin API by "the host platform",
// and pushes arriving at a local push service, decrypted by the independent http_ece package.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRestAPIClient } from 'masto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountJson, statusJson } from '../support/fixtures.js';
import { freePort } from '../support/free-port.js';
import { startHerald, type HeraldProcess, callAdmin } from '../support/herald-process.js';
import { createBrowser, startPushReceiver, type PushReceiver, type ReceivedPush } from '../support/push-receiver.js';

const ADMIN = 'e2e-admin-token-0123456789';

describe('herald serve with a masto.js client', () => {
  let herald: HeraldProcess;
  let receiver: PushReceiver;
  let url: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-e2e-'));
    receiver = await startPushReceiver();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    herald = startHerald('serve', {
      PORT: String(port),
      HERALD_DATA_DIR: dataDir,
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_PUSH_ALLOW_PRIVATE: '127.0.0.1',
      HERALD_VAPID_SUBJECT: 'mailto:e2e@herald.test',
      HERALD_RATE_LIMITS: 'off',
      LOG_LEVEL: 'warn',
    });
    await waitForHealth(url, herald);
  }, 60_000);
  afterAll(async () => {
    await herald?.kill('SIGTERM');
    await receiver?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const admin = (method: string, route: string, body?: unknown) => callAdmin(url, ADMIN, method, route, body);

  it('delivers one push per matching event to subscriptions made with masto.js, both encodings', async () => {
    await admin('PUT', '/accounts/1', accountJson('1', { display_name: 'Bob' }));
    await admin('PUT', '/accounts/2', accountJson('2', { display_name: 'Alice' }));
    await admin('PUT', '/statuses/10', statusJson('10', '1', { content: '<p>good morning</p>' }));
    const instance = (await (await fetch(`${url}/api/v2/instance`)).json()) as any;
    const vapidKey: string = instance.configuration.vapid.public_key;

    const browsers = [createBrowser(receiver.url, '/push/legacy', receiver.received), createBrowser(receiver.url, '/push/standard', receiver.received)];
    const tokens: string[] = [];
    for (const [i, browser] of browsers.entries()) {
      const { access_token: accessToken } = await admin('POST', '/tokens', { account_id: '1', scopes: 'read write push' });
      tokens.push(accessToken);
      const client = createRestAPIClient({ url, accessToken });
      const created = await client.v1.push.subscription.create({
        // masto.js has no `standard` in its types; Mastodon 4.4+ clients send it to opt into RFC 8291.
        subscription: { endpoint: browser.endpoint, keys: browser.keys, ...(i === 1 ? { standard: true } : {}) },
        data: { alerts: { mention: true, favourite: true, follow: false, admin: { signUp: true, report: false } } },
        policy: 'all',
      });
      expect(created.endpoint).toBe(browser.endpoint);
      expect(created.serverKey).toBe(vapidKey);
      // masto.js camel-cases keys: admin.sign_up reads as adminSignUp.
      expect(created.alerts).toMatchObject({ mention: true, favourite: true, follow: false, adminSignUp: true, adminReport: false });
      expect(created.policy).toBe('all');
      expect(await client.v1.push.subscription.fetch()).toEqual(created);
    }

    const mention = await admin('POST', '/notifications', { account_id: '1', type: 'mention', from_account_id: '2', status_id: '10' });
    const favourite = await admin('POST', '/notifications', { account_id: '1', type: 'favourite', from_account_id: '2', status_id: '10' });
    await admin('POST', '/notifications', { account_id: '1', type: 'follow', from_account_id: '2' });
    await admin('POST', '/notifications', { account_id: '1', type: 'admin.sign_up', from_account_id: '2' });

    await receiver.waitFor(() => browsers.every((b) => b.received().length >= 3), 20_000, 'three pushes per subscription');
    // Nothing more is on its way: the outbox is empty once everything was delivered.
    await waitForEmptyQueue(url);
    for (const [i, browser] of browsers.entries()) {
      const pushes = browser.received();
      expect(pushes.map((p) => p.headers['content-encoding'])).toEqual(Array(3).fill(i === 1 ? 'aes128gcm' : 'aesgcm'));
      const payloads = pushes.map((p: ReceivedPush) => JSON.parse(browser.decrypt(p)));
      expect(payloads.map((p) => p.notification_id).sort()).toEqual(
        [Number(mention.id), Number(favourite.id), expect.any(Number)].sort(),
      );
      expect(payloads.map((p) => p.notification_type).sort()).toEqual(['admin.sign_up', 'favourite', 'mention']);
      for (const payload of payloads) expect(payload.access_token).toBe(tokens[i]);
      expect(payloads.find((p) => p.notification_type === 'mention')).toMatchObject({
        title: 'You were mentioned by Alice',
        body: 'good morning',
        preferred_locale: 'en',
      });
    }

    // The operator's check: `herald push test` sends one push to each subscription and prints the outcome.
    const before = receiver.received.length;
    const run = await runHerald(['push', 'test', '--account', '1'], {
      HERALD_DATA_DIR: dataDir,
      HERALD_ADMIN_TOKEN: ADMIN,
      HERALD_PUSH_ALLOW_PRIVATE: '127.0.0.1',
      HERALD_VAPID_SUBJECT: 'mailto:e2e@herald.test',
    });
    expect(run.code).toBe(0);
    expect(run.stdout.match(/^subscription \d+ \(http:\/\/127\.0\.0\.1:\d+\): delivered \(HTTP 201\)$/gm)).toHaveLength(2);
    expect(receiver.received.length).toBe(before + 2);
    for (const browser of browsers) {
      const test = JSON.parse(browser.decrypt(browser.received().at(-1)!));
      expect(test).toMatchObject({ notification_id: 0, title: 'You were mentioned by Herald' });
    }

    // Updating and removing through masto.js: PUT replaces alerts, DELETE answers {} (masto throws on 204).
    const client = createRestAPIClient({ url, accessToken: tokens[0] });
    const updated = await client.v1.push.subscription.update({ data: { alerts: { follow: true } } });
    expect(updated.alerts).toMatchObject({ follow: true, mention: false });
    await client.v1.push.subscription.remove();
    await expect(client.v1.push.subscription.fetch()).rejects.toThrow();

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`herald_push_deliveries_total\\{origin="${receiver.url}",outcome="delivered",status_class="2xx"\\} 6`));
    expect(metrics).toMatch(/herald_http_requests_total\{method="POST",route="\/api\/v1\/push\/subscription",status="200"\} 2/);
    expect(metrics).toMatch(/herald_http_request_duration_seconds_count\{method="POST",route="\/api\/admin\/v1\/notifications"\} 4/);
  });
});

function runHerald(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', ...args],
      { cwd: path.resolve(import.meta.dirname, '../..'), env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function waitForHealth(url: string, herald: HeraldProcess): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    if (herald.child.exitCode !== null) throw new Error(`herald exited:\n${herald.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`herald did not become ready:\n${herald.output()}`);
}

async function waitForEmptyQueue(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const depth = [...text.matchAll(/^herald_delivery_queue_depth\{state="(due|scheduled|leased)"\} (\d+)/gm)];
    if (depth.length === 3 && depth.every((m) => m[2] === '0')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the delivery queue did not empty');
}
