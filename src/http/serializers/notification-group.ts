// GroupedNotificationsResults JSON (SPEC §6): `{accounts, statuses, notification_groups}` with each
// account and status once. Stored account and status JSON is spliced in as text, as in the v1 serializer.
import { fallbackFor } from '../../domain/fallback-texts.js';
import { splitGroupAccounts, type ExpandAccounts } from '../../domain/grouped-accounts.js';
import type { GroupView } from '../../domain/grouping.js';
import { NON_BASELINE_TYPES, PAYLOAD_KEY, type NotificationType } from '../../domain/notification-types.js';
import { toIso } from '../../domain/records.js';
import type { ActorRow } from '../../store/groups.js';
import type { NotificationView } from '../../store/notifications.js';
import type { GroupedPage } from '../../services/grouped-notifications.js';

function displayName(row: NotificationView): string {
  const parsed = JSON.parse(row.account_json) as { display_name?: unknown };
  return typeof parsed.display_name === 'string' && parsed.display_name !== '' ? parsed.display_name : row.account_username;
}

function serializeGroup(view: GroupView<NotificationView>, page: GroupedPage): string {
  const row = view.representative;
  const type = row.type as NotificationType;
  // most_recent_notification_id stays a JSON number for wire compatibility (SPEC §1.4).
  let out =
    `{"group_key":${JSON.stringify(view.groupKey)},"notifications_count":${view.count}` +
    `,"type":${JSON.stringify(row.type)},"most_recent_notification_id":${view.mostRecentId}`;
  if (view.page) {
    out +=
      `,"page_min_id":"${view.page.minId}","page_max_id":"${view.page.maxId}"` +
      `,"latest_page_notification_at":"${toIso(view.page.latestAt)}"`;
  }
  out += `,"sample_account_ids":${JSON.stringify(view.sampleAccountIds)}`;
  if (page.supportedTypes && NON_BASELINE_TYPES.has(type) && !page.supportedTypes.has(type)) {
    out += `,"fallback":${JSON.stringify(fallbackFor(type, displayName(row)))}`;
  }
  const key = PAYLOAD_KEY[type];
  if (key === 'status') {
    const known = row.status_id !== null && page.statuses.has(row.status_id);
    out += `,"status_id":${known ? JSON.stringify(row.status_id) : 'null'}`;
  } else if (key !== null) {
    out += `,"${key}":${row.payload ?? 'null'}`;
  }
  return out + '}';
}

/** The avatar-only form of an account (Mastodon's PartialAccountWithAvatar). */
function serializePartialAccount(json: string): string {
  const full = JSON.parse(json) as Record<string, unknown>;
  return JSON.stringify({
    id: full.id,
    acct: full.acct,
    locked: full.locked === true,
    bot: full.bot === true,
    url: full.url,
    avatar: full.avatar,
    avatar_static: full.avatar_static,
    avatar_description: typeof full.avatar_description === 'string' ? full.avatar_description : '',
  });
}

export function serializeGroupedResults(page: GroupedPage, expand: ExpandAccounts): string {
  const split = splitGroupAccounts(
    page.groups.map((g) => g.sampleAccountIds),
    expand,
  );
  const accountsOf = (ids: readonly string[]): string[] => ids.flatMap((id) => page.accounts.get(id) ?? []);
  const statusIds = new Set(
    page.groups.flatMap((g) => (PAYLOAD_KEY[g.representative.type as NotificationType] === 'status' && g.representative.status_id ? [g.representative.status_id] : [])),
  );
  const statuses = [...statusIds].flatMap((id) => page.statuses.get(id) ?? []);
  let out = `{"accounts":[${accountsOf(split.full).join(',')}]`;
  if (split.partial) out += `,"partial_accounts":[${accountsOf(split.partial).map(serializePartialAccount).join(',')}]`;
  out += `,"statuses":[${statuses.join(',')}]`;
  return out + `,"notification_groups":[${page.groups.map((g) => serializeGroup(g, page)).join(',')}]}`;
}

/** A group's actors, each once, newest first. */
export function serializeGroupAccounts(rows: readonly ActorRow[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const row of rows) {
    if (seen.has(row.from_account_id)) continue;
    seen.add(row.from_account_id);
    out.push(row.account_json);
  }
  return `[${out.join(',')}]`;
}
