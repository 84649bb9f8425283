// SPEC §11 and §13: each token source is configured whole or not at all. Half a configuration stops start-up
// with a ConfigError naming the setting that is missing; a whole one comes out as given, with defaults.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const BASE = { HERALD_DATA_DIR: '/tmp/herald-config-test' };
const JWKS_URL = 'https://auth.example.test/oauth/jwks';
const ISSUER = 'https://auth.example.test/';
const INTROSPECTION_URL = 'https://auth.example.test/oauth/introspect';

/** The ConfigError loadConfig throws for `env`, or a failure when it throws nothing or something else. */
function configError(env: Record<string, string>): ConfigError {
  let thrown: unknown;
  try {
    loadConfig({ ...BASE, ...env });
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'loadConfig should refuse this configuration').toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

describe('loadConfig refuses half a token-source configuration', () => {
  it.each<[string, Record<string, string>, string]>([
    ['JWKS URL without issuer', { HERALD_AUTH_JWKS_URL: JWKS_URL }, 'HERALD_AUTH_ISSUER'],
    ['JWKS URL and audience without issuer', { HERALD_AUTH_JWKS_URL: JWKS_URL, HERALD_AUTH_AUDIENCE: 'https://herald.test' }, 'HERALD_AUTH_ISSUER'],
    ['JWKS URL with an empty issuer', { HERALD_AUTH_JWKS_URL: JWKS_URL, HERALD_AUTH_ISSUER: '' }, 'HERALD_AUTH_ISSUER'],
    ['issuer without JWKS URL', { HERALD_AUTH_ISSUER: ISSUER }, 'HERALD_AUTH_JWKS_URL'],
    ['audience without JWKS URL', { HERALD_AUTH_AUDIENCE: 'https://herald.test' }, 'HERALD_AUTH_JWKS_URL'],
    ['issuer and audience without JWKS URL', { HERALD_AUTH_ISSUER: ISSUER, HERALD_AUTH_AUDIENCE: 'https://herald.test' }, 'HERALD_AUTH_JWKS_URL'],
    ['introspection URL alone', { HERALD_AUTH_INTROSPECTION_URL: INTROSPECTION_URL }, 'HERALD_AUTH_CLIENT_ID'],
    [
      'introspection URL without client id',
      { HERALD_AUTH_INTROSPECTION_URL: INTROSPECTION_URL, HERALD_AUTH_CLIENT_SECRET: 'secret' },
      'HERALD_AUTH_CLIENT_ID',
    ],
    [
      'introspection URL without client secret',
      { HERALD_AUTH_INTROSPECTION_URL: INTROSPECTION_URL, HERALD_AUTH_CLIENT_ID: 'herald' },
      'HERALD_AUTH_CLIENT_SECRET',
    ],
    [
      'introspection URL with an empty client secret',
      { HERALD_AUTH_INTROSPECTION_URL: INTROSPECTION_URL, HERALD_AUTH_CLIENT_ID: 'herald', HERALD_AUTH_CLIENT_SECRET: '' },
      'HERALD_AUTH_CLIENT_SECRET',
    ],
    ['client id and secret without URL', { HERALD_AUTH_CLIENT_ID: 'herald', HERALD_AUTH_CLIENT_SECRET: 'secret' }, 'HERALD_AUTH_INTROSPECTION_URL'],
    ['client id alone', { HERALD_AUTH_CLIENT_ID: 'herald' }, 'HERALD_AUTH_INTROSPECTION_URL'],
    ['client secret alone', { HERALD_AUTH_CLIENT_SECRET: 'secret' }, 'HERALD_AUTH_INTROSPECTION_URL'],
    ['a JWKS URL that is no URL', { HERALD_AUTH_JWKS_URL: 'auth.example.test/jwks', HERALD_AUTH_ISSUER: ISSUER }, 'HERALD_AUTH_JWKS_URL'],
    ['a JWKS URL that is a path', { HERALD_AUTH_JWKS_URL: '/oauth/jwks', HERALD_AUTH_ISSUER: ISSUER }, 'HERALD_AUTH_JWKS_URL'],
    ['a JWKS URL that is not http(s)', { HERALD_AUTH_JWKS_URL: 'file:///etc/jwks.json', HERALD_AUTH_ISSUER: ISSUER }, 'HERALD_AUTH_JWKS_URL'],
    [
      'an introspection URL that is no URL',
      { HERALD_AUTH_INTROSPECTION_URL: 'not a url', HERALD_AUTH_CLIENT_ID: 'herald', HERALD_AUTH_CLIENT_SECRET: 'secret' },
      'HERALD_AUTH_INTROSPECTION_URL',
    ],
    ['a cache time that is no number', { HERALD_AUTH_CACHE_SECONDS: 'soon' }, 'HERALD_AUTH_CACHE_SECONDS'],
    ['a negative recheck time', { HERALD_AUTH_RECHECK_SECONDS: '-1' }, 'HERALD_AUTH_RECHECK_SECONDS'],
  ])('%s → %s', (_name, env, variable) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });

  it('the message says what the missing setting is needed for', () => {
    expect(configError({ HERALD_AUTH_JWKS_URL: JWKS_URL }).message).toContain('HERALD_AUTH_JWKS_URL');
    expect(configError({ HERALD_AUTH_AUDIENCE: 'https://herald.test' }).message).toContain('HERALD_AUTH_AUDIENCE');
    expect(configError({ HERALD_AUTH_CLIENT_ID: 'herald' }).message).toContain('HERALD_AUTH_CLIENT_ID');
  });
});

describe('loadConfig accepts whole configurations', () => {
  it('none: both sources off, with the defaults', () => {
    expect(loadConfig(BASE).auth).toEqual({
      jwt: undefined,
      introspection: undefined,
      accountClaim: 'sub',
      cacheSeconds: 60,
      recheckSeconds: 3600,
    });
  });

  it('empty values count as unset', () => {
    const auth = loadConfig({
      ...BASE,
      HERALD_AUTH_JWKS_URL: '',
      HERALD_AUTH_ISSUER: '',
      HERALD_AUTH_AUDIENCE: '',
      HERALD_AUTH_INTROSPECTION_URL: '',
      HERALD_AUTH_CLIENT_ID: '',
      HERALD_AUTH_CLIENT_SECRET: '',
      HERALD_AUTH_ACCOUNT_CLAIM: '',
      HERALD_AUTH_CACHE_SECONDS: '',
    }).auth;
    expect(auth).toEqual({ jwt: undefined, introspection: undefined, accountClaim: 'sub', cacheSeconds: 60, recheckSeconds: 3600 });
  });

  it('JWT: JWKS URL and issuer, audience optional; URLs kept as given, trailing slash included', () => {
    expect(loadConfig({ ...BASE, HERALD_AUTH_JWKS_URL: JWKS_URL, HERALD_AUTH_ISSUER: ISSUER }).auth).toEqual({
      jwt: { jwksUrl: JWKS_URL, issuer: ISSUER, audience: undefined },
      introspection: undefined,
      accountClaim: 'sub',
      cacheSeconds: 60,
      recheckSeconds: 3600,
    });
    const withSlash = loadConfig({
      ...BASE,
      HERALD_AUTH_JWKS_URL: 'http://127.0.0.1:8080/keys/',
      HERALD_AUTH_ISSUER: 'https://auth.example.test',
      HERALD_AUTH_AUDIENCE: 'https://herald.test/',
    }).auth.jwt;
    expect(withSlash).toEqual({ jwksUrl: 'http://127.0.0.1:8080/keys/', issuer: 'https://auth.example.test', audience: 'https://herald.test/' });
    // A query string stays too.
    expect(loadConfig({ ...BASE, HERALD_AUTH_JWKS_URL: `${JWKS_URL}?v=2`, HERALD_AUTH_ISSUER: ISSUER }).auth.jwt?.jwksUrl).toBe(`${JWKS_URL}?v=2`);
  });

  it('introspection: URL, client id and secret; URL kept as given, a private address allowed', () => {
    const auth = loadConfig({
      ...BASE,
      HERALD_AUTH_INTROSPECTION_URL: 'http://10.0.0.5:3000/oauth/introspect/',
      HERALD_AUTH_CLIENT_ID: 'herald:notifications',
      HERALD_AUTH_CLIENT_SECRET: 'p@ss word&=',
    }).auth;
    expect(auth).toEqual({
      jwt: undefined,
      introspection: { url: 'http://10.0.0.5:3000/oauth/introspect/', clientId: 'herald:notifications', clientSecret: 'p@ss word&=' },
      accountClaim: 'sub',
      cacheSeconds: 60,
      recheckSeconds: 3600,
    });
  });

  it('both sources, with account claim, cache and recheck times set', () => {
    const config = loadConfig({
      ...BASE,
      HERALD_AUTH_JWKS_URL: JWKS_URL,
      HERALD_AUTH_ISSUER: ISSUER,
      HERALD_AUTH_AUDIENCE: 'https://herald.test',
      HERALD_AUTH_INTROSPECTION_URL: INTROSPECTION_URL,
      HERALD_AUTH_CLIENT_ID: 'herald',
      HERALD_AUTH_CLIENT_SECRET: 'secret',
      HERALD_AUTH_ACCOUNT_CLAIM: 'account_id',
      HERALD_AUTH_CACHE_SECONDS: '0',
      HERALD_AUTH_RECHECK_SECONDS: '600',
    });
    expect(config.auth).toEqual({
      jwt: { jwksUrl: JWKS_URL, issuer: ISSUER, audience: 'https://herald.test' },
      introspection: { url: INTROSPECTION_URL, clientId: 'herald', clientSecret: 'secret' },
      accountClaim: 'account_id',
      cacheSeconds: 0,
      recheckSeconds: 600,
    });
    expect(Object.isFrozen(config.auth)).toBe(true);
  });
});
