// Who a streaming client is and what its streams may carry (SPEC §9), as Mastodon's streaming server
// decides it: the token from the Authorization header, else `access_token` in the query, else the
// WebSocket subprotocol; scopes judged per stream, not at the door.
import type { IncomingHttpHeaders } from 'node:http';
import { bearerFromHeader, hasAnyScope } from '../http/auth.js';

export type StreamName = 'user' | 'user:notification';

export const isStreamName = (value: unknown): value is StreamName => value === 'user' || value === 'user:notification';

const NOTIFICATION_SCOPES = ['read', 'read:notifications'];
/** What each stream needs to be subscribed to. */
export const STREAM_SCOPES: Readonly<Record<StreamName, readonly string[]>> = {
  'user:notification': NOTIFICATION_SCOPES,
  user: [...NOTIFICATION_SCOPES, 'read:statuses'],
};

/** Notification events reach a `user` stream only for a token that may read notifications (SPEC §9). */
export const carriesNotifications = (scopes: readonly string[]): boolean => hasAnyScope(scopes, NOTIFICATION_SCOPES);

export interface StreamingToken {
  readonly token: string;
  /** The subprotocol header held it: the handshake must answer with that protocol. */
  readonly fromProtocol: boolean;
}

export function streamingToken(headers: IncomingHttpHeaders, query: Record<string, unknown>): StreamingToken | undefined {
  const bearer = bearerFromHeader(headers.authorization);
  if (bearer) return { token: bearer, fromProtocol: false };
  if (typeof query.access_token === 'string' && query.access_token !== '') return { token: query.access_token, fromProtocol: false };
  const protocol = headers['sec-websocket-protocol'];
  const first = typeof protocol === 'string' ? protocol.split(',')[0].trim() : '';
  return first === '' ? undefined : { token: first, fromProtocol: true };
}
