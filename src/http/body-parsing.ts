// Request bodies and query strings with Rails-style bracket nesting (SPEC §1.3), bounded so a hostile
// body costs neither memory nor CPU, and with no way for `__proto__`/`constructor` to reach an object.
import qs from 'qs';
import secureJson from 'secure-json-parse';
import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { badParameter } from '../domain/errors.js';

/** SPEC §15: keys at any depth, query and body together, per client request. */
export const MAX_PARAMETERS = 1000;

const QS_OPTIONS: qs.IParseOptions = {
  depth: 5,
  // One over SPEC §15's 1,000, so that countParameters can tell "too many" from "exactly the limit".
  parameterLimit: MAX_PARAMETERS + 1,
  arrayLimit: 100,
  allowPrototypes: false,
  allowDots: false,
  strictDepth: false,
};

/** A few plain `key=value` pairs, the query of nearly every request (`limit=40`, `max_id=…`). */
const PLAIN_QUERY = /^[A-Za-z0-9_]{1,64}=[A-Za-z0-9_.-]{0,64}(?:&[A-Za-z0-9_]{1,64}=[A-Za-z0-9_.-]{0,64}){0,15}$/;

/**
 * qs gives a plain query the same object as splitting it, at several times the cost (bench profile of a
 * cached v1 page: 5% of the request). Anything else (brackets, escapes, a repeated key, a key qs drops
 * because Object.prototype has it) goes to qs.
 */
export function parseQueryString(text: string): Record<string, unknown> {
  if (PLAIN_QUERY.test(text)) {
    const query: Record<string, string> = {};
    for (const pair of text.split('&')) {
      const at = pair.indexOf('=');
      const key = pair.slice(0, at);
      if (key in query || key in Object.prototype) return qs.parse(text, QS_OPTIONS) as Record<string, unknown>;
      query[key] = pair.slice(at + 1);
    }
    return query;
  }
  return qs.parse(text, QS_OPTIONS) as Record<string, unknown>;
}

/**
 * NUL never belongs in a Mastodon parameter, and PostgreSQL cannot store it in text: a NUL in an id, a name or a
 * marker failed there with a 500 while SQLite took it. Refuse it in every input, the same on both engines.
 */
const nulRefused = () => badParameter('Null bytes are not allowed in parameters');
/** `%00` or a raw NUL in a URL or form body. */
const PERCENT_NUL = /%00|\u0000/i;
/** A `\u0000` escape in JSON text: preceded by an even number of backslashes (an odd one escapes the `\`). */
const JSON_NUL = /(?<!\\)(?:\\\\)*\\u0000/i;

/** JSON nested deeper than this is refused before it reaches any handler. */
const MAX_JSON_DEPTH = 32;

function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}


export async function registerBodyParsers(app: FastifyInstance): Promise<void> {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, {});
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return done(badParameter('JSON body is nested too deeply'), undefined);
    if (JSON_NUL.test(text)) return done(nulRefused(), undefined);
    try {
      // Removes `__proto__` and `constructor.prototype` keys at every level; scans only when they appear.
      done(null, secureJson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' }));
    } catch {
      done(badParameter('Invalid JSON body'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    if (PERCENT_NUL.test(body as string)) return done(nulRefused(), undefined);
    done(null, parseQueryString(body as string));
  });
  // Query string and path parameters, before any route reads them; after authentication (SPEC §15), which
  // runs in onRequest.
  // The small hooks here and in server-limits.ts take `done` rather than return a promise: on every request,
  // each promise cost a microtask turn (bench profile of a cached v1 page).
  app.addHook('preParsing', (request, _reply, payload, done) => {
    if (PERCENT_NUL.test(request.url)) throw nulRefused();
    done(null, payload);
  });
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fields: MAX_PARAMETERS, fieldSize: 64 * 1024, files: 0, fileSize: 0, parts: MAX_PARAMETERS },
  });
  // Multipart fields arrive flat ("subscription[keys][auth]"): re-read them through the same bracket parser.
  app.addHook('preHandler', (request, _reply, done) => {
    if (!request.isMultipart() || typeof request.body !== 'object' || request.body === null) return done();
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(request.body as Record<string, unknown>)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v !== 'string') continue;
        if (key.includes('\u0000') || v.includes('\u0000')) throw nulRefused();
        params.append(key, v);
      }
    }
    request.body = parseQueryString(params.toString());
    done();
  });
}

/** Keys at any depth in `value`, counting no further than `limit + 1`. */
function countKeys(value: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null) continue;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (!Array.isArray(current)) count++;
      stack.push(child);
    }
  }
  return count;
}

/** A client request with more than MAX_PARAMETERS keys, query and body together, is a 400 (SPEC §15). */
export function limitParameters(api: FastifyInstance): void {
  api.addHook('preValidation', (request, _reply, done) => {
    const inQuery = countKeys(request.query, MAX_PARAMETERS);
    if (inQuery + countKeys(request.body, MAX_PARAMETERS - inQuery) > MAX_PARAMETERS) throw badParameter('Too many parameters');
    done();
  });
}
