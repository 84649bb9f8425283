import { describe, expect, it } from 'vitest';

import { NOTIFICATION_TYPES } from '../../src/domain/notification-types.js';
import {
  buildPushPayload,
  composePushPayload,
  fitPushPayload,
  PUSH_PAYLOAD_MAX_BYTES,
  truncateChars,
  type PushPayload,
  type PushPayloadInput,
} from '../../src/push/payload.js';
import { localeChain, PUSH_TITLES, titleTemplate } from '../../src/push/push-texts.js';

const alice = { display_name: 'Alice', username: 'alice', avatar_static: 'https://cdn.example/a.png', note: '<p>Hi, I am Alice</p>' };

function input(overrides: Partial<PushPayloadInput> = {}): PushPayloadInput {
  return {
    accessToken: 'tok_abc',
    locale: 'en',
    notificationId: 123456,
    type: 'mention',
    actor: alice,
    status: { spoiler_text: '', content: '<p>@bob hello</p>' },
    ...overrides,
  };
}

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('composePushPayload (SPEC §8.5)', () => {
  it('builds the SPEC example with keys in order', () => {
    const json = buildPushPayload(input());
    expect(json).toBe(
      '{"access_token":"tok_abc","preferred_locale":"en","notification_id":123456,"notification_type":"mention",' +
        '"icon":"https://cdn.example/a.png","title":"You were mentioned by Alice","body":"@bob hello"}',
    );
    expect(Object.keys(JSON.parse(json))).toEqual([
      'access_token', 'preferred_locale', 'notification_id', 'notification_type', 'icon', 'title', 'body',
    ]);
    expect(typeof JSON.parse(json).notification_id).toBe('number');
  });

  it('has an English title for every notification type of SPEC §3', () => {
    for (const type of NOTIFICATION_TYPES) {
      expect(Object.hasOwn(PUSH_TITLES.en, type), type).toBe(true);
      expect(composePushPayload(input({ type })).title).not.toContain('%{name}');
    }
  });

  it.each([
    ['mention', 'You were mentioned by Alice'],
    ['status', 'Alice just posted'],
    ['reblog', 'Alice boosted your post'],
    ['follow', 'Alice is now following you'],
    ['follow_request', 'Pending follower: Alice'],
    ['favourite', 'Alice favorited your post'],
    ['poll', 'A poll by Alice has ended'],
    ['update', 'Alice edited a post'],
    ['quote', 'Alice quoted your post'],
    ['quoted_update', 'Alice edited a post you have quoted'],
    ['admin.sign_up', 'Alice signed up'],
    ['admin.report', 'Alice submitted a report'],
    ['moderation_warning', 'You have received a moderation warning'],
    ['severed_relationships', 'You have lost connections due to a moderation decision'],
    ['annual_report', 'Your year in review is ready'],
    ['added_to_collection', 'Alice added you to a collection'],
    ['collection_update', 'Alice updated a collection you are in'],
    ['some_future_type', 'New notification from Alice'],
    ['constructor', 'New notification from Alice'],
  ])('titles %s as %j', (type, title) => {
    expect(composePushPayload(input({ type })).title).toBe(title);
  });

  it.each([
    ['de', 'mention', 'Du wurdest von Alice erwähnt'],
    ['fr', 'follow', 'Alice vous suit'],
    ['de-AT', 'reblog', 'Alice hat deinen Beitrag geteilt'],
    ['de', 'poll', 'A poll by Alice has ended'], // no German text for poll: English
    ['pt-BR', 'follow', 'Alice está seguindo você'], // pt-BR → pt
    ['pt_BR', 'mention', 'Você foi mencionado por Alice'],
    ['pt-BR', 'reblog', 'Alice boosted your post'], // pt-BR → pt → en
    ['xx', 'mention', 'You were mentioned by Alice'],
    ['FR', 'follow', 'Alice vous suit'],
  ])('in locale %s titles %s as %j', (locale, type, title) => {
    expect(composePushPayload(input({ locale, type })).title).toBe(title);
  });

  it('walks the locale chain from most specific to English', () => {
    expect(localeChain('pt-BR')).toEqual(['pt-br', 'pt', 'en']);
    expect(localeChain('zh_Hant_TW')).toEqual(['zh-hant-tw', 'zh-hant', 'zh', 'en']);
    expect(localeChain('en-GB')).toEqual(['en-gb', 'en']);
    expect(localeChain(null)).toEqual(['en']);
    expect(titleTemplate('mention', 'de', { en: { mention: 'E' }, de: {} })).toBe('E');
  });

  it.each([
    ['pt-BR', 'pt-BR'],
    [null, 'en'],
    [undefined, 'en'],
    ['', 'en'],
    ['"><script>', 'en'],
    ['x'.repeat(100), 'en'],
  ])('sends preferred_locale %j as %j', (locale, expected) => {
    expect(composePushPayload(input({ locale })).preferred_locale).toBe(expected);
  });

  it.each([
    [{ display_name: 'Alice', username: 'alice' }, 'Alice'],
    [{ display_name: '', username: 'alice' }, 'alice'],
    [{ display_name: '   ', username: 'alice' }, 'alice'],
    [{ display_name: null, username: 'alice' }, 'alice'],
    [{ username: 'alice' }, 'alice'],
    [{ display_name: 'Eve %{name} $& $1', username: 'eve' }, 'Eve %{name} $& $1'],
  ])('names the actor %j as %j', (actor, name) => {
    expect(composePushPayload(input({ type: 'follow', actor })).title).toBe(`${name} is now following you`);
  });

  it('sends an empty icon when the actor has no avatar', () => {
    expect(composePushPayload(input({ actor: { username: 'a' } })).icon).toBe('');
  });
});

describe('body (SPEC §8.5, §12 "Push body text")', () => {
  it.each([
    ['spoiler text first', { spoiler_text: 'CW: food', text: 'source', content: '<p>html</p>' }, 'CW: food'],
    ['text when the spoiler is empty', { spoiler_text: '', text: 'source', content: '<p>html</p>' }, 'source'],
    ['content when there is no text', { spoiler_text: '', content: '<p>html</p>' }, 'html'],
    ['content when text is null', { spoiler_text: '', text: null, content: '<p>html</p>' }, 'html'],
    ['empty for a media-only status', { spoiler_text: '', content: '' }, ''],
    ['text when the spoiler is only blanks', { spoiler_text: ' <b> </b> ', text: 'source' }, 'source'],
  ])('takes %s', (_label, status, body) => {
    expect(composePushPayload(input({ status })).body).toBe(body);
  });

  it("uses the actor's note without a status", () => {
    expect(composePushPayload(input({ type: 'follow', status: null })).body).toBe('Hi, I am Alice');
    expect(composePushPayload(input({ type: 'follow', status: undefined, actor: { username: 'x' } })).body).toBe('');
  });

  it.each([
    ['paragraphs', '<p>one</p><p>two</p>', 'one\n\ntwo'],
    ['line breaks', '<p>one<br>two<br />three</p>', 'one\ntwo\nthree'],
    ['a Mastodon mention', '<p><span class="h-card"><a href="https://x.example/@bob" class="u-url mention">@<span>bob</span></a></span> hi</p>', '@bob hi'],
    ['a link with > inside an attribute', '<a title="a>b" href="/x">link</a>', 'link'],
    ['source whitespace', '<p>a\n   b</p>\n<p>c</p>', 'a b\n\nc'],
    ['named entities', '<p>Tom &amp; Jerry &lt;3 &quot;hi&quot; &hellip; caf&eacute;</p>', 'Tom & Jerry <3 "hi" … caf&eacute;'],
    ['numeric entities', '&#39;&#x1F349;&#128512;&#0;&#xD800;', "'🍉😀\uFFFD\uFFFD"],
    ['escaped tags, which are text', '&lt;script&gt;alert(1)&lt;/script&gt;', '<script>alert(1)</script>'],
    ['a script element', '<p>a</p><script>alert("<p>")</script><p>b</p>', 'a\n\nb'],
    ['comments', 'a<!-- <p>hidden</p> -->b', 'ab'],
    ['a lone less-than', 'a < b and c > d', 'a < b and c > d'],
    ['an unterminated tag', 'text <a href="x', 'text'],
    ['list items', '<ul><li>one</li><li>two</li></ul>', 'one\ntwo'],
  ])('strips %s', (_label, content, body) => {
    expect(composePushPayload(input({ status: { content } })).body).toBe(body);
  });

  it('keeps the newlines of plain-text fields', () => {
    expect(composePushPayload(input({ status: { text: 'line 1\nline 2 &amp; <b>x</b>' } })).body).toBe('line 1\nline 2 & x');
  });

  it('cuts a body longer than 140 characters to 137 + "..."', () => {
    const body = composePushPayload(input({ status: { text: 'a'.repeat(141) } })).body;
    expect(body).toBe('a'.repeat(137) + '...');
    expect(composePushPayload(input({ status: { text: 'b'.repeat(140) } })).body).toBe('b'.repeat(140));
  });

  it('counts characters, not UTF-16 units, and never splits an emoji', () => {
    const melons = '🍉'.repeat(140);
    expect(composePushPayload(input({ status: { text: melons } })).body).toBe(melons);
    const body = composePushPayload(input({ status: { text: '🍉'.repeat(141) } })).body;
    expect(Array.from(body)).toHaveLength(140);
    expect(body).toBe('🍉'.repeat(137) + '...');
    expect(truncateChars('x' + '😀'.repeat(10), 5)).toBe('x😀...');
  });
});

describe('size bound (RFC 8291 §4: 3993 bytes)', () => {
  function check(json: string): PushPayload {
    expect(bytes(json)).toBeLessThanOrEqual(PUSH_PAYLOAD_MAX_BYTES);
    expect(json).not.toMatch(LONE_SURROGATE);
    return JSON.parse(json) as PushPayload;
  }

  it('fits a 10,000-character body', () => {
    const payload = check(buildPushPayload(input({ status: { text: 'ß🍉'.repeat(5000) } })));
    expect(Array.from(payload.body)).toHaveLength(140);
  });

  it('fits an absurdly long display name and keeps the body', () => {
    const payload = check(buildPushPayload(input({ actor: { ...alice, display_name: '🍉'.repeat(50_000) } })));
    expect(payload.body).toBe('@bob hello');
    expect(payload.title.startsWith('You were mentioned by 🍉')).toBe(true);
  });

  it('blanks a monstrous avatar URL, then a monstrous token, but always fits', () => {
    const hugeIcon = check(buildPushPayload(input({ actor: { ...alice, avatar_static: 'https://x/' + 'a'.repeat(10_000) } })));
    expect(hugeIcon.icon).toBe('');
    expect(hugeIcon.access_token).toBe('tok_abc');
    const hugeToken = check(buildPushPayload(input({ accessToken: 't'.repeat(10_000) })));
    expect(hugeToken.access_token).toBe('');
    expect(hugeToken.icon).toBe('https://cdn.example/a.png');
    expect(hugeToken.title).toBe('You were mentioned by Alice');
    expect(hugeToken.body).toBe('@bob hello');
    const everything = check(buildPushPayload(input({ accessToken: 't'.repeat(9000), type: 'y'.repeat(9000) })));
    expect(everything.notification_id).toBe(123456);
  });

  it('shortens body first, then title, to the longest prefix that fits, without splitting pairs', () => {
    const payload: PushPayload = {
      access_token: 'tok', preferred_locale: 'en', notification_id: 1, notification_type: 'mention',
      icon: '', title: '😀'.repeat(3000), body: '\u0001🍉"'.repeat(3000),
    };
    const fitted = fitPushPayload(payload);
    const json = JSON.stringify(fitted);
    expect(bytes(json)).toBeLessThanOrEqual(PUSH_PAYLOAD_MAX_BYTES);
    expect(json).not.toMatch(LONE_SURROGATE);
    expect(fitted.body).toBe(''); // the title alone is larger than the budget
    expect(fitted.title.endsWith('...')).toBe(true);
    // Maximal: one more emoji would not fit.
    const longer = { ...fitted, title: fitted.title.replace(/\.\.\.$/, '') + '😀...' };
    expect(bytes(JSON.stringify(longer))).toBeGreaterThan(PUSH_PAYLOAD_MAX_BYTES);

    const bodyOnly = fitPushPayload({ ...payload, title: 'short' });
    expect(bodyOnly.title).toBe('short');
    expect(bodyOnly.body.endsWith('...')).toBe(true);
    expect(bytes(JSON.stringify(bodyOnly))).toBeGreaterThan(PUSH_PAYLOAD_MAX_BYTES - 12);
  });

  it('leaves a payload that fits untouched', () => {
    const payload = composePushPayload(input());
    expect(fitPushPayload(payload)).toBe(payload);
  });

  it('always fits, whatever the sizes (deterministic sweep)', () => {
    const pieces = ['a', 'é', '🍉', '"', '\u0001', '\\', '<p>', '&amp;'];
    let seed = 7;
    const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 200; round += 1) {
      const text = (): string => Array.from({ length: next(3000) }, () => pieces[next(pieces.length)]).join('');
      check(buildPushPayload(input({
        accessToken: text(),
        actor: { display_name: text(), username: text(), avatar_static: text(), note: text() },
        status: next(2) ? { spoiler_text: text(), content: text() } : null,
      })));
    }
  });
});
