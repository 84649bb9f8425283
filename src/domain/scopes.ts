// OAuth scopes as Mastodon names them; a token holds a space-separated, de-duplicated list.
import { validationFailed } from './errors.js';

const TOP = new Set(['read', 'write', 'push', 'follow', 'profile', 'admin:read', 'admin:write']);
const SCOPE = /^(read|write|admin:read|admin:write)(:[a-z_]+)?$/;

export function parseScopes(value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(/\s+/) : Array.isArray(value) ? value : undefined;
  if (list === undefined || list.some((s) => typeof s !== 'string')) throw validationFailed('scopes must be a string');
  const scopes = [...new Set((list as string[]).filter((s) => s !== ''))];
  if (scopes.length === 0) throw validationFailed("scopes can't be blank");
  const unknown = scopes.filter((s) => !TOP.has(s) && !SCOPE.test(s));
  if (unknown.length > 0) throw validationFailed(`unknown scope ${unknown.map((s) => `'${s.slice(0, 40)}'`).join(', ')}`);
  return scopes;
}
