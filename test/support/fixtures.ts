// Complete Mastodon entities as a host platform would send them, and outbox rows for queue tests.
import type { Db } from '../../src/store/schema.js';

export function accountJson(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    username: `user${id}`,
    acct: `user${id}`,
    display_name: `User ${id}`,
    locked: false,
    bot: false,
    group: false,
    indexable: true,
    discoverable: true,
    created_at: '2024-01-01T00:00:00.000Z',
    note: '<p>hello</p>',
    url: `https://social.test/@user${id}`,
    uri: `https://social.test/users/user${id}`,
    avatar: `https://social.test/avatars/${id}.png`,
    avatar_static: `https://social.test/avatars/${id}.png`,
    header: `https://social.test/headers/${id}.png`,
    header_static: `https://social.test/headers/${id}.png`,
    followers_count: 1,
    following_count: 2,
    statuses_count: 3,
    last_status_at: '2026-11-20',
    emojis: [],
    fields: [],
    ...extra,
  };
}

export function statusJson(id: string, authorId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    uri: `https://social.test/users/user${authorId}/statuses/${id}`,
    url: `https://social.test/@user${authorId}/${id}`,
    created_at: '2026-11-22T11:00:00.000Z',
    account: accountJson(authorId),
    content: `<p>status ${id}</p>`,
    visibility: 'public',
    sensitive: false,
    spoiler_text: '',
    media_attachments: [],
    mentions: [],
    tags: [],
    emojis: [],
    reblogs_count: 0,
    favourites_count: 0,
    replies_count: 0,
    in_reply_to_id: null,
    in_reply_to_account_id: null,
    reblog: null,
    poll: null,
    card: null,
    language: 'en',
    edited_at: null,
    ...extra,
  };
}

/** `count` fresh outbox rows for subscription 1 of account 'a', due at `at`; their ids, in order. */
export async function queueDeliveries(db: Db, count: number, at: number): Promise<number[]> {
  const rows = await db
    .insertInto('deliveries')
    .values(
      Array.from({ length: count }, (_, i) => ({
        subscription_id: 1,
        notification_id: i + 1,
        account_id: 'a',
        next_attempt_at: at,
        attempts: 0,
        lease_until: null,
        last_status: null,
        given_up_at: null,
        created_at: at,
      })),
    )
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}
