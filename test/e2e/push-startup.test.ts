// Start-up checks of the push settings (SPEC §8.3, §11): an explicit bad value stops start-up with a
// message naming the setting; a default that Apple would refuse only warns.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parseConfiguredAllowList, resolveVapidSubject, createConfiguredSigner } from '../../src/services/push-vapid.js';
import { generateVapidKeys } from '../../src/push/keys.js';
import { startHerald } from '../support/herald-process.js';

describe('VAPID subject and push settings', () => {
  const config = (env: Record<string, string>) => loadConfig({ HERALD_DATA_DIR: os.tmpdir(), ...env });

  it.each(['mailto:ops@example.org', 'https://notifications.example.org'])('accepts %s', (subject) => {
    expect(resolveVapidSubject(config({ HERALD_VAPID_SUBJECT: subject }))).toEqual({ subject });
  });

  it.each(['https://localhost', 'https://push.local', 'http://example.org', 'ops@example.org', 'mailto:nobody', 'https://x.invalid'])(
    'refuses an explicit %s, naming the setting',
    (subject) => {
      expect(() => resolveVapidSubject(config({ HERALD_VAPID_SUBJECT: subject }))).toThrow(ConfigError);
      expect(() => resolveVapidSubject(config({ HERALD_VAPID_SUBJECT: subject }))).toThrow(/^HERALD_VAPID_SUBJECT: /);
    },
  );

  it('derives the default from the public URL, warning only when it is local', () => {
    expect(resolveVapidSubject(config({ HERALD_PUBLIC_URL: 'https://social.example.org' }))).toEqual({ subject: 'https://social.example.org' });
    const local = resolveVapidSubject(config({}));
    expect(local.subject).toBe('https://127.0.0.1');
    expect(local.warning).toMatch(/HERALD_VAPID_SUBJECT/);
  });

  it('refuses a bad allow-list entry and a mismatched key pair, naming the setting', () => {
    expect(() => parseConfiguredAllowList(config({ HERALD_PUSH_ALLOW_PRIVATE: '10.0.0.0/8,not a host' }))).toThrow(/^HERALD_PUSH_ALLOW_PRIVATE: /);
    const a = generateVapidKeys();
    const b = generateVapidKeys();
    expect(() => createConfiguredSigner({ publicKey: a.publicKey, privateKey: b.privateKey }, 'mailto:a@example.org', Date.now)).toThrow(
      /^HERALD_VAPID_PRIVATE_KEY: .*does not belong/,
    );
  });
});

describe('herald serve start-up', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-start-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('stops with exit code 78 on an explicit bad HERALD_VAPID_SUBJECT', async () => {
    const herald = startHerald('serve', { HERALD_DATA_DIR: dataDir, PORT: '0', HERALD_VAPID_SUBJECT: 'https://localhost' });
    expect(await herald.exited).toBe(78);
    expect(herald.output()).toMatch(/configuration error: HERALD_VAPID_SUBJECT: .*localhost/);
  });

  it('warns and starts with a subject derived from a local public URL', async () => {
    const herald = startHerald('serve', { HERALD_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' });
    try {
      await herald.waitForOutput(/herald is listening/);
      expect(herald.output()).toMatch(/"level":40.*VAPID subject defaults to https:\/\/127\.0\.0\.1/);
    } finally {
      expect(await herald.kill('SIGTERM')).toBe(0);
    }
  });
});
