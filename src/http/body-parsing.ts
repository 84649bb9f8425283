// Request bodies and query strings with Rails-style bracket nesting (SPEC §1.3), bounded so a hostile
// body costs neither memory nor CPU, and with no way for `__proto__`/`constructor` to reach an object.
import qs from 'qs';
import secureJson from 'secure-json-parse';
import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { badParameter } from '../domain/errors.js';

const QS_OPTIONS: qs.IParseOptions = {
  depth: 5,
  parameterLimit: 1000,
  arrayLimit: 100,
  allowPrototypes: false,
  allowDots: false,
  strictDepth: false,
};

export const parseQueryString = (text: string): Record<string, unknown> =>
  qs.parse(text, QS_OPTIONS) as Record<string, unknown>;

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
    try {
      // Removes `__proto__` and `constructor.prototype` keys at every level; scans only when they appear.
      done(null, secureJson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' }));
    } catch {
      done(badParameter('Invalid JSON body'), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, parseQueryString(body as string));
  });
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fields: 1000, fieldSize: 64 * 1024, files: 0, fileSize: 0, parts: 1000 },
  });
  // Multipart fields arrive flat ("subscription[keys][auth]"): re-read them through the same bracket parser.
  app.addHook('preHandler', async (request) => {
    if (!request.isMultipart() || typeof request.body !== 'object' || request.body === null) return;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(request.body as Record<string, unknown>)) {
      for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') params.append(key, v);
    }
    request.body = parseQueryString(params.toString());
  });
}
