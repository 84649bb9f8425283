// What a stream subscription receives: the recipient's events from the hub, or nothing at all for a `user`
// stream whose token may not read notifications (SPEC §9: a `read:statuses` token sees none; Herald keeps
// no statuses to stream instead).
import { carriesNotifications, STREAM_SCOPES, type StreamName } from './stream-auth.js';
import type { StreamHub, StreamSink } from './stream-hub.js';
import { hasAnyScope } from '../http/auth.js';

/** The token behind a stream, as its local row says. */
export interface StreamCaller {
  readonly accountId: string | null;
  readonly scopes: readonly string[];
}

/** Why a subscription is refused, as Mastodon's streaming server words it; undefined when it is allowed. */
export function refusal(caller: StreamCaller, stream: StreamName): { error: string; status: number } | undefined {
  if (!hasAnyScope(caller.scopes, STREAM_SCOPES[stream])) return { error: 'Access token does not have the required scopes', status: 401 };
  if (caller.accountId === null) return { error: 'This method requires an authenticated user', status: 422 };
  return undefined;
}

/** Starts an allowed subscription; the returned function stops it. */
export function subscribe(hub: StreamHub, caller: StreamCaller, stream: StreamName, sink: StreamSink): () => void {
  if (stream === 'user' && !carriesNotifications(caller.scopes)) return () => {};
  return hub.listen(caller.accountId!, sink);
}
