// NotificationPolicy (v1 and v2) and NotificationRequest JSON (SPEC §7).
import { POLICY_FIELDS } from '../../domain/notification-policy.js';
import { toV1Flags } from '../../domain/policy-params.js';
import { toIso } from '../../domain/records.js';
import type { StatusRow } from '../../store/accounts.js';
import type { RequestRow } from '../../store/filtering.js';
import type { PolicyView } from '../../services/notification-filtering.js';

const summaryOf = (view: PolicyView) => ({
  pending_requests_count: view.summary.pendingRequests,
  pending_notifications_count: view.summary.pendingNotifications,
});

export function serializePolicy(view: PolicyView): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of POLICY_FIELDS) out[field] = view.policy[field];
  out.summary = summaryOf(view);
  return out;
}

export const serializeV1Policy = (view: PolicyView): Record<string, unknown> => ({
  ...toV1Flags(view.policy),
  summary: summaryOf(view),
});

/** `notifications_count` is a string, as Mastodon sends it (SPEC §1.4). */
export function serializeRequest(row: RequestRow, statuses: ReadonlyMap<string, StatusRow>): string {
  const status = row.last_status_id ? statuses.get(row.last_status_id) : undefined;
  return (
    `{"id":"${row.id}","created_at":"${toIso(row.created_at)}","updated_at":"${toIso(row.updated_at)}"` +
    `,"notifications_count":"${row.pending_count}","account":${row.account_json}` +
    `,"last_status":${status ? status.json : 'null'}}`
  );
}
