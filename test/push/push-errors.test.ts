import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { isPushError, PUSH_ERROR_CODES, PushError } from '../../src/push/push-errors.js';

const SOURCE_DIR = join(import.meta.dirname, '../../src/push');

/** Every ERR_* literal written in src/push, outside the catalogue itself. */
function codesUsedInSources(): Set<string> {
  const used = new Set<string>();
  for (const file of readdirSync(SOURCE_DIR).filter((name) => name.endsWith('.ts') && name !== 'push-errors.ts')) {
    for (const match of readFileSync(join(SOURCE_DIR, file), 'utf8').matchAll(/'(ERR_[A-Z_]+)'/g)) used.add(match[1]);
  }
  return used;
}

describe('PUSH_ERROR_CODES', () => {
  it('documents every code the push modules use, and lists none that is unused', () => {
    expect([...codesUsedInSources()].sort()).toEqual(Object.keys(PUSH_ERROR_CODES).sort());
  });

  it('describes each code', () => {
    for (const description of Object.values(PUSH_ERROR_CODES)) expect(description.length).toBeGreaterThan(10);
  });
});

describe('PushError', () => {
  it('carries its code, message and cause', () => {
    const cause = new Error('inner');
    const error = new PushError('ERR_SUBSCRIPTION_INVALID_KEY', 'p256dh is bad', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ERR_SUBSCRIPTION_INVALID_KEY');
    expect(error.message).toBe('p256dh is bad');
    expect(error.name).toBe('PushError');
    expect(error.cause).toBe(cause);
    expect(isPushError(error)).toBe(true);
    expect(isPushError(cause)).toBe(false);
  });
});
