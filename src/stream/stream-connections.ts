// The open streaming connections of this process, by token, so a revoked token's streams close (SPEC §9,
// §13): at once when the revocation signal arrives over the bus, and otherwise at the next sweep, which
// also catches a lost signal, a deleted account and an external token its source no longer accepts.
import type { TokenResolver } from '../auth/token-resolver.js';
import type { NotificationBus } from '../services/notification-bus.js';

/** SPEC §9: within 5 s of a revocation, even when its signal was lost. */
export const SWEEP_INTERVAL_MS = 2_500;

export type CloseReason = 'revoked' | 'shutdown';

export interface StreamConnection {
  readonly kind: 'websocket' | 'sse';
  readonly tokenId: number;
  /** A JWT or introspected token: its source is asked again when its cached answer runs out. */
  readonly external: boolean;
  /** The bearer as sent, to ask its source again when its cached answer runs out. */
  readonly plain: string;
  /** Ends the connection (WebSocket close, SSE end). */
  close(reason: CloseReason): void;
}

export interface StreamConnections {
  /** Tracks a connection until the returned function is called (when it closes). */
  add(connection: StreamConnection): () => void;
  /** Open connections of each kind (for /metrics). */
  count(kind: StreamConnection['kind']): number;
  /** Runs one sweep now (tests). */
  sweep(): Promise<void>;
  /** Closes every connection (shutdown: WebSocket close code 1001, SSE ended) and stops watching. */
  close(): void;
}

export function createStreamConnections(deps: {
  tokens: TokenResolver;
  /** Which of these token ids are still live (not revoked, not deleted). */
  liveTokenIds: (ids: readonly number[]) => Promise<ReadonlySet<number>>;
  bus: NotificationBus;
  onError?: (error: unknown) => void;
  sweepIntervalMs?: number;
}): StreamConnections {
  const byToken = new Map<number, Set<StreamConnection>>();

  const closeToken = (tokenId: number, reason: CloseReason = 'revoked'): void => {
    const set = byToken.get(tokenId);
    if (!set) return;
    byToken.delete(tokenId);
    for (const connection of set) connection.close(reason);
  };

  const stopSignals = deps.bus.onSignal((signal) => {
    if (signal.kind === 'tokens_revoked') for (const id of signal.tokenIds) closeToken(id);
  });

  let sweeping = false;
  async function sweep(): Promise<void> {
    if (sweeping || byToken.size === 0) return;
    sweeping = true;
    try {
      // One query for every open token; the external ones whose answer ran out are asked again.
      const live = await deps.liveTokenIds([...byToken.keys()]);
      for (const [tokenId, set] of [...byToken]) {
        if (!live.has(tokenId)) {
          closeToken(tokenId);
          continue;
        }
        const { plain, external } = set.values().next().value as StreamConnection;
        if (!external || !deps.tokens.needsCheck(plain)) continue;
        try {
          if ((await deps.tokens.resolve(plain))?.id !== tokenId) closeToken(tokenId);
        } catch {
          // The source is down: keep the stream, ask again at the next sweep.
        }
      }
    } finally {
      sweeping = false;
    }
  }
  const timer = setInterval(() => sweep().catch((error) => deps.onError?.(error)), deps.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    add(connection) {
      let set = byToken.get(connection.tokenId);
      if (!set) byToken.set(connection.tokenId, (set = new Set()));
      set.add(connection);
      return () => {
        set.delete(connection);
        if (set.size === 0 && byToken.get(connection.tokenId) === set) byToken.delete(connection.tokenId);
      };
    },
    count(kind) {
      let n = 0;
      for (const set of byToken.values()) for (const connection of set) if (connection.kind === kind) n++;
      return n;
    },
    sweep,
    close() {
      clearInterval(timer);
      stopSignals();
      for (const tokenId of [...byToken.keys()]) closeToken(tokenId, 'shutdown');
    },
  };
}
