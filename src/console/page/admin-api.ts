/// <reference lib="dom" />
// The admin JSON the console reads (SPEC §14), as the server answers it, and the one way the page asks for
// it: relative to the page (so a proxy prefix in front of Herald still works), with the bearer token,
// never cached.

export type Level = 'ok' | 'warning' | 'problem';

export interface ProcessSeen {
  readonly role: string;
  readonly host: string;
  readonly pid: number;
  readonly started_at: string;
  readonly last_beat: string;
}

export interface Status {
  readonly version: string;
  readonly uptime_seconds: number;
  readonly processes: readonly ProcessSeen[];
  readonly ingest_per_minute: number;
  readonly open_streams: number;
  readonly queue: {
    readonly due: number;
    readonly scheduled: number;
    readonly leased: number;
    readonly given_up_last_day: number;
    readonly oldest_due_age_seconds: number | null;
  };
}

export interface GivenUp {
  readonly id: number;
  readonly subscription_id: number;
  /** Null when the subscription has gone since. */
  readonly origin: string | null;
  readonly reason: string | null;
  readonly at: string;
}

export interface Queue {
  readonly due: number;
  readonly scheduled: number;
  readonly leased: number;
  readonly oldest_due_age_seconds: number | null;
  readonly given_up_last_day: readonly GivenUp[];
}

export interface OriginWindow {
  readonly outcomes: Readonly<Record<string, number>>;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
}

export interface Origin {
  readonly origin: string;
  readonly last_hour: OriginWindow;
  readonly last_day: OriginWindow;
  readonly last_error: { readonly at: string; readonly status: string; readonly text: string } | null;
  readonly paused_until: string | null;
}

export interface Origins {
  readonly origins: readonly Origin[];
}

export interface Subscription {
  readonly id: number;
  readonly token_id: number;
  readonly origin: string;
  readonly encoding: string;
  readonly alerts: Readonly<Record<string, boolean>>;
  readonly policy: string;
  readonly created_at: string;
  readonly last_success_at: string | null;
  readonly last_failure: { readonly at: string; readonly status: string; readonly class: string } | null;
  readonly consecutive_failures: number;
  readonly pending_deliveries: number;
}

export interface Removal {
  readonly id: number;
  readonly origin: string;
  readonly removed_at: string;
  readonly reason: string;
  readonly detail: string | null;
  /** Why, in words: a clause that follows "because" ("the push service answered 410 Gone: …"). */
  readonly explanation: string;
}

export interface AccountDiagnosis {
  readonly account_id: string;
  readonly subscriptions: readonly Subscription[];
  readonly removed: readonly Removal[];
  readonly findings: readonly { readonly level: Level; readonly text: string }[];
}

/** The server's clock when it answered (its Date header), so ages do not depend on this computer's clock. */
export interface Answer<T> {
  readonly body: T;
  readonly serverNow: number;
}

/** Why a request gave no data: the token was refused, the thing does not exist, or Herald could not be asked. */
export class AdminRequestError extends Error {
  constructor(
    readonly kind: 'unauthorized' | 'not-found' | 'unreachable' | 'failed',
    message: string,
  ) {
    super(message);
  }
}

export interface AdminClient {
  status(): Promise<Answer<Status>>;
  queue(): Promise<Answer<Queue>>;
  origins(): Promise<Answer<Origins>>;
  account(id: string): Promise<Answer<AccountDiagnosis>>;
}

export function createAdminClient(token: string, base: string = document.baseURI): AdminClient {
  const get = async <T>(path: string): Promise<Answer<T>> => {
    let response: Response;
    try {
      response = await fetch(new URL(`../api/admin/v1/${path}`, base), {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      throw new AdminRequestError('unreachable', 'Herald could not be reached.');
    }
    if (response.status === 401) throw new AdminRequestError('unauthorized', 'Herald did not accept the admin token.');
    if (response.status === 404) throw new AdminRequestError('not-found', 'Not found.');
    if (!response.ok) throw new AdminRequestError('failed', `Herald answered with an error (HTTP ${response.status}).`);
    const body = (await response.json()) as T;
    const date = Date.parse(response.headers.get('date') ?? '');
    return { body, serverNow: Number.isFinite(date) ? date : Date.now() };
  };
  return {
    status: () => get<Status>('status'),
    queue: () => get<Queue>('push/queue'),
    origins: () => get<Origins>('push/origins'),
    account: (id) => get<AccountDiagnosis>(`push/accounts/${encodeURIComponent(id)}`),
  };
}
