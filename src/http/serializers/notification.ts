// Notification JSON (SPEC §3). Account and status JSON are stored serialized, so they are spliced in as
// text rather than parsed and stringified again on every read: the listing's hot path.
import { fallbackFor } from '../../domain/fallback-texts.js';
import { visibleGroupKey } from '../../domain/group-key.js';
import { NON_BASELINE_TYPES, PAYLOAD_KEY, type NotificationType } from '../../domain/notification-types.js';
import { toIso } from '../../domain/records.js';
import type { AccountRow, StatusRow } from '../../store/accounts.js';
import type { NotificationRow } from '../../store/notifications.js';

export interface NotificationContext {
  readonly accounts: ReadonlyMap<string, Pick<AccountRow, 'json' | 'username'>>;
  readonly statuses: ReadonlyMap<string, Pick<StatusRow, 'json'>>;
  /** When the client listed its supported types, the others get a fallback text. */
  readonly supportedTypes?: ReadonlySet<string>;
}

function displayName(account: Pick<AccountRow, 'json' | 'username'> | undefined): string {
  if (!account) return 'Someone';
  const parsed = JSON.parse(account.json) as { display_name?: unknown };
  return typeof parsed.display_name === 'string' && parsed.display_name !== '' ? parsed.display_name : account.username;
}

export function serializeNotification(row: NotificationRow, ctx: NotificationContext): string {
  const type = row.type as NotificationType;
  const account = ctx.accounts.get(row.from_account_id);
  let out =
    `{"id":"${row.id}","type":${JSON.stringify(row.type)},"created_at":"${toIso(row.created_at)}"` +
    `,"group_key":${JSON.stringify(visibleGroupKey(row.group_key, row.id))}`;
  if (row.filtered) out += ',"filtered":true';
  if (ctx.supportedTypes && NON_BASELINE_TYPES.has(type) && !ctx.supportedTypes.has(type)) {
    out += `,"fallback":${JSON.stringify(fallbackFor(type, displayName(account)))}`;
  }
  out += `,"account":${account ? account.json : 'null'}`;
  const key = PAYLOAD_KEY[type];
  if (key === 'status') {
    const status = row.status_id ? ctx.statuses.get(row.status_id) : undefined;
    out += `,"status":${status ? status.json : 'null'}`;
  } else if (key !== null && key !== 'annual_report') {
    out += `,"${key}":${row.payload ?? 'null'}`;
  }
  return out + '}';
}

export const serializeNotifications = (rows: readonly NotificationRow[], ctx: NotificationContext): string =>
  `[${rows.map((row) => serializeNotification(row, ctx)).join(',')}]`;
