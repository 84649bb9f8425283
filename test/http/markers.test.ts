// Markers (SPEC §5, §12): read positions per timeline, versioned, from forms and JSON.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { schemaErrors } from '../support/openapi.js';
import { snapshotStore } from '../support/snapshot.js';
import { createTestApp, ENGINES, START_TIME, type TestApp } from '../support/test-app.js';

const iso = (ms: number) => new Date(ms).toISOString();

describe.each(ENGINES)('markers on %s', (engine) => {
  let t: TestApp;
  let bob: string;

  beforeEach(async () => {
    t = await createTestApp(engine);
    await t.account('1');
    await t.account('2');
    bob = await t.token('1', 'read write');
  });
  afterEach(() => t.close());

  const get = (query: string) => t.client(bob, 'GET', `/api/v1/markers${query}`);
  const postJson = (body: unknown) => t.client(bob, 'POST', '/api/v1/markers', body);
  const postForm = (form: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/markers',
      headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: form,
    });

  it('answers {} when no timeline is asked, or none is stored', async () => {
    for (const query of ['', '?timeline[]=notifications', '?timeline[]=home&timeline[]=notifications']) {
      const res = await get(query);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.json()).toEqual({});
    }
  });

  it('stores the notifications marker from JSON, version 0, valid against the OpenAPI Marker', async () => {
    const res = await postJson({ notifications: { last_read_id: '105' } });
    expect(res.statusCode).toBe(200);
    const expected = { notifications: { last_read_id: '105', version: 0, updated_at: iso(START_TIME) } };
    expect(res.json()).toEqual(expected);
    expect(schemaErrors('Marker', res.json().notifications)).toEqual([]);
    expect((await get('?timeline[]=notifications')).json()).toEqual(expected);
  });

  it('stores home and notifications from a form, and returns what was asked', async () => {
    const res = await postForm('home[last_read_id]=110000000000000001&notifications[last_read_id]=7');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      home: { last_read_id: '110000000000000001', version: 0, updated_at: iso(START_TIME) },
      notifications: { last_read_id: '7', version: 0, updated_at: iso(START_TIME) },
    });
    const both = (await get('?timeline[]=home&timeline[]=notifications')).json();
    expect(Object.keys(both).sort()).toEqual(['home', 'notifications']);
    for (const marker of Object.values(both)) expect(schemaErrors('Marker', marker)).toEqual([]);
    expect(Object.keys((await get('?timeline[]=home')).json())).toEqual(['home']);
  });

  it('takes a multipart form too', async () => {
    const boundary = 'herald-boundary';
    const payload =
      `--${boundary}\r\nContent-Disposition: form-data; name="notifications[last_read_id]"\r\n\r\n42\r\n--${boundary}--\r\n`;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/markers',
      headers: { authorization: `Bearer ${bob}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ notifications: { last_read_id: '42', version: 0 } });
  });

  // Regression: busboy's plain Errors for a malformed multipart body answered 500.
  it.each([
    ['no boundary', 'multipart/form-data', 'notifications[last_read_id]=1'],
    ['a body that ends early', 'multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1'],
    ['a 300-character boundary', `multipart/form-data; boundary=${'b'.repeat(300)}`, `--${'b'.repeat(300)}--\r\n`],
  ])('answers 400 for a multipart body with %s, and stores nothing', async (_name, type, payload) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/markers',
      headers: { authorization: `Bearer ${bob}`, 'content-type': type },
      payload,
    });
    expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 400, body: { error: 'Invalid multipart body' } });
    expect((await get('?timeline[]=notifications')).json()).toEqual({});
  });

  it('ignores unknown timelines when reading and writing', async () => {
    await postJson({ notifications: { last_read_id: '1' } });
    expect((await get('?timeline[]=bogus&timeline[]=notifications&timeline[]=public')).json()).toEqual({
      notifications: expect.objectContaining({ last_read_id: '1' }),
    });
    expect((await get('?timeline[]=bogus')).json()).toEqual({});
    const res = await postJson({ public: { last_read_id: '9' }, bogus: 'x' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
  });

  it('answers only the markers a POST updated', async () => {
    await postJson({ notifications: { last_read_id: '1' } });
    const res = await postJson({ home: { last_read_id: '5' } });
    expect(Object.keys(res.json())).toEqual(['home']);
  });

  it('raises version by one per change, with updated_at from the clock', async () => {
    for (let i = 0; i < 4; i++) {
      t.clock.now = START_TIME + i * 1000;
      const res = await postJson({ notifications: { last_read_id: String(100 + i) } });
      expect(res.json().notifications).toEqual({ last_read_id: String(100 + i), version: i, updated_at: iso(t.clock.now) });
    }
    // home counts its own versions.
    expect((await postJson({ home: { last_read_id: '1' } })).json().home.version).toBe(0);
  });

  // Regression: every POST raised the version, even one that changed nothing (SPEC §12: "grows by one per
  // change"; Mastodon's optimistic lock does not move when the record is unchanged).
  it('keeps version and updated_at when the same position is posted again', async () => {
    await postJson({ notifications: { last_read_id: '100' } });
    t.clock.now += 5000;
    const again = await postJson({ notifications: { last_read_id: '100' } });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ notifications: { last_read_id: '100', version: 0, updated_at: iso(START_TIME) } });
    expect((await postJson({ notifications: { last_read_id: '101' } })).json().notifications.version).toBe(1);
  });

  it('reads a numeric last_read_id as its decimal text', async () => {
    const res = await postJson({ notifications: { last_read_id: 123 } });
    expect(res.statusCode).toBe(200);
    expect(res.json().notifications.last_read_id).toBe('123');
  });

  it.each([
    ['an empty id', { notifications: { last_read_id: '' } }, 'notifications[last_read_id] must be an id'],
    ['no id', { notifications: {} }, 'notifications[last_read_id] must be an id'],
    ['a string instead of an object', { notifications: '5' }, 'notifications[last_read_id] must be an id'],
    ['an object as id', { home: { last_read_id: { id: 1 } } }, 'home[last_read_id] must be an id'],
    ['an array as id', { home: { last_read_id: ['1'] } }, 'home[last_read_id] must be an id'],
    ['null as id', { home: { last_read_id: null } }, 'home[last_read_id] must be an id'],
    ['a boolean as id', { home: { last_read_id: true } }, 'home[last_read_id] must be an id'],
    ['an overlong id', { home: { last_read_id: '1'.repeat(256) } }, 'home[last_read_id] must be an id'],
    ['a fractional number', { home: { last_read_id: 1.5 } }, 'home[last_read_id] must be an id'],
    ['one bad of two', { home: { last_read_id: '5' }, notifications: { last_read_id: '' } }, 'notifications[last_read_id] must be an id'],
  ])('answers 422 for %s and changes nothing', async (_name, body, message) => {
    await postJson({ home: { last_read_id: '1' } });
    const before = await snapshotStore(t.store);
    const res = await postJson(body);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ error: `Validation failed: ${message}` });
    expect(await snapshotStore(t.store)).toEqual(before);
  });

  it('answers 422 for an empty form value', async () => {
    const res = await postForm('notifications[last_read_id]=');
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ error: 'Validation failed: notifications[last_read_id] must be an id' });
  });

  it('keeps markers per account', async () => {
    const alice = await t.token('2', 'read write');
    await postJson({ notifications: { last_read_id: '10' } });
    await t.client(alice, 'POST', '/api/v1/markers', { notifications: { last_read_id: '20' } });
    expect((await get('?timeline[]=notifications')).json().notifications.last_read_id).toBe('10');
    expect((await t.client(alice, 'GET', '/api/v1/markers?timeline[]=notifications')).json().notifications.last_read_id).toBe('20');
  });

  it('answers concurrent updates with 200 or the 409 body, and the version counts the successes', async () => {
    await postJson({ notifications: { last_read_id: '0' } });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => postJson({ notifications: { last_read_id: String(i + 1) } })),
    );
    for (const res of answers) {
      if (res.statusCode === 409) expect(res.json()).toEqual({ error: 'Conflict during update, please try again' });
      else expect(res.statusCode).toBe(200);
    }
    const won = answers.filter((r) => r.statusCode === 200);
    expect(won.length).toBeGreaterThan(0);
    const final = (await get('?timeline[]=notifications')).json().notifications;
    expect(final.version).toBe(won.length);
    expect(won.map((r) => r.json().notifications.last_read_id)).toContain(final.last_read_id);
  });

  it('moves the unread count: notifications above the marker are unread', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      await t.account(`a${i}`);
      ids.push((await t.notify({ account_id: '1', type: 'follow', from_account_id: `a${i}` })).id);
    }
    const count = async () => (await t.client(bob, 'GET', '/api/v1/notifications/unread_count')).json().count;
    expect(await count()).toBe(4);
    await postJson({ notifications: { last_read_id: ids[1] } });
    expect(await count()).toBe(2);
    await postJson({ notifications: { last_read_id: ids[3] } });
    expect(await count()).toBe(0);
    // The home marker has nothing to do with it.
    await postJson({ home: { last_read_id: '0' } });
    expect(await count()).toBe(0);
  });
});
