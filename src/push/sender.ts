/**
 * Sends built push requests (the one piece of I/O in src/push, DESIGN "Layout"). undici, because it
 * keeps a pool of kept-alive connections per push-service origin, speaks HTTP/2 where the service
 * offers it (FCM and Apple do, through ALPN), and lets us own the connect step (SPEC §8.7):
 *
 * - Timeouts: connect 5 s, the whole exchange 30 s (both injectable, so tests need not wait).
 * - No redirects: undici's request follows none; a 3xx is classified, never followed.
 * - SSRF: an endpoint's host name may resolve, or later rebind, to a private address. The check runs
 *   on the resolved addresses inside the connect step, before any connection is opened, and again on
 *   the socket's peer address once it is connected, so nothing between the check and the connect can
 *   swap the address. Allow-listed hosts (HERALD_PUSH_ALLOW_PRIVATE) pass.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';

import type { PushRequest } from './build-push-request.js';
import { isAllowedAddress, type AllowList } from './private-address.js';
import { PushError } from './push-errors.js';

export const CONNECT_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 30_000;
/** Push services answer with a short text or JSON reason; more than this is not worth keeping. */
const MAX_KEPT_BODY_BYTES = 2048;

export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

export interface PushSenderOptions {
  readonly allowList: AllowList;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Name resolution; the system resolver unless a test injects one. */
  readonly resolve?: Resolver;
  /** Parallel HTTP/1.1 connections per origin (HTTP/2 multiplexes on one). */
  readonly connectionsPerOrigin?: number;
  /** Extra trusted CA certificates (PEM), replacing the defaults: for tests with a local TLS push service. */
  readonly ca?: string | Buffer;
}

export interface PushResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The first bytes of the answer, for logs. */
  readonly body: string;
}

export interface PushSender {
  send(request: PushRequest): Promise<PushResponse>;
  close(): Promise<void>;
}

const systemResolve: Resolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

function refused(hostname: string, address: string): PushError {
  return new PushError(
    'ERR_SUBSCRIPTION_INVALID_ENDPOINT',
    `refusing to connect to ${hostname} (${address}): a private, loopback or link-local address not in HERALD_PUSH_ALLOW_PRIVATE`,
  );
}

/**
 * A `lookup` for net/tls.connect that drops every private address the allow-list does not cover, and
 * fails when none is left. Node's happy-eyeballs connect asks for `all: true`, plain connect for one.
 */
export function createSafeLookup(allowList: AllowList, resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        const allowed = wanted.filter((a) => isAllowedAddress(a.address, allowList, hostname));
        if (allowed.length === 0) {
          const shown = wanted[0]?.address ?? 'no address';
          (callback as (error: Error) => void)(wanted.length === 0 ? Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }) : refused(hostname, shown));
          return;
        }
        if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, allowed);
        else (callback as (e: null, a: string, f: number) => void)(null, allowed[0].address, allowed[0].family);
      },
      (error: Error) => (callback as (error: Error) => void)(error),
    );
  };
}

export function createPushSender(options: PushSenderOptions): PushSender {
  const { allowList } = options;
  const requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const base = buildConnector({
    allowH2: true,
    timeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    lookup: createSafeLookup(allowList, options.resolve ?? systemResolve),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  } as buildConnector.BuildOptions);

  const connect: buildConnector.connector = (connectOptions, callback) => {
    const hostname = connectOptions.hostname;
    // IP literals bypass `lookup`, so they are judged here (the allow-list may have changed since subscribe).
    if (isIP(hostname) !== 0 && !isAllowedAddress(hostname, allowList, hostname)) {
      callback(refused(hostname, hostname), null);
      return;
    }
    base(connectOptions, (error, socket) => {
      if (error || !socket) {
        callback(error ?? new Error('connect failed'), null);
        return;
      }
      const peer = (socket as Socket).remoteAddress;
      if (peer !== undefined && !isAllowedAddress(peer, allowList, hostname)) {
        socket.destroy();
        callback(refused(hostname, peer), null);
        return;
      }
      callback(null, socket);
    });
  };

  const agent = new Agent({
    connect,
    allowH2: true,
    connections: options.connectionsPerOrigin ?? 16,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 10 * 60_000,
    headersTimeout: requestTimeoutMs,
    bodyTimeout: requestTimeoutMs,
  });

  return {
    send: (request) => dispatchPush(agent, request, requestTimeoutMs),
    close: () => agent.close(),
  };
}

/**
 * One exchange through undici's dispatcher, reading the answer into a string as it arrives. `request()`
 * wraps every answer in a Readable stream and every call in an AbortSignal.timeout: with the body read
 * back out of the stream that was ~8% of the serving process's main thread at the delivery benchmark's
 * peak (`tsx bench/only.ts delivery` with --cpu-prof: Request, BodyReadable, abort listeners, readSome).
 */
function dispatchPush(agent: Dispatcher, request: PushRequest, timeoutMs: number): Promise<PushResponse> {
  const url = new URL(request.url);
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let timedOut: Error | undefined;
    let settled = false;
    let status = 0;
    let headers: PushResponse['headers'] = {};
    const kept: Buffer[] = [];
    let size = 0;
    const settle = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve({ status, headers, body: Buffer.concat(kept).toString('utf8') });
    };
    // The whole exchange, connect included: headersTimeout/bodyTimeout alone restart per phase. A request
    // still waiting for a connection is failed now and dropped when it would start.
    const timer = setTimeout(() => {
      timedOut = new Error(`push request timed out after ${timeoutMs} ms`);
      timedOut.name = 'TimeoutError';
      controller?.abort(timedOut);
      settle(timedOut);
    }, timeoutMs);
    try {
      agent.dispatch(
        { origin: url.origin, path: `${url.pathname}${url.search}`, method: request.method, headers: request.headers, body: request.body },
        {
          onRequestStart(started) {
            controller = started;
            if (timedOut) started.abort(timedOut);
          },
          onResponseStart(_, statusCode, responseHeaders) {
            status = statusCode;
            headers = responseHeaders;
          },
          // The whole answer is read (so the connection can be reused), only its beginning kept for logs.
          onResponseData(_, chunk) {
            if (size < MAX_KEPT_BODY_BYTES) kept.push(chunk.subarray(0, MAX_KEPT_BODY_BYTES - size));
            size += chunk.length;
          },
          onResponseEnd: () => settle(undefined),
          onResponseError: (_, error) => settle(error),
        },
      );
    } catch (error) {
      settle(error as Error);
    }
  });
}
