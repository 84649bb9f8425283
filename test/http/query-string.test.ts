// The query-string parser's plain fast path gives exactly what qs gives, for plain queries and for the
// ones it must hand over to qs.
import qs from 'qs';
import { describe, expect, it } from 'vitest';
import { parseQueryString } from '../../src/http/body-parsing.js';

const QS = { depth: 5, parameterLimit: 1001, arrayLimit: 100, allowPrototypes: false, allowDots: false, strictDepth: false };

describe('parseQueryString', () => {
  it.each([
    'limit=40',
    'limit=40&max_id=123&since_id=7',
    'a=',
    'a',
    '=x',
    'a=1&a=2',
    'a=1&&b=2',
    'a.b=1&c=d.e',
    'toString=1',
    '__proto__=1&limit=2',
    'constructor=x',
    'hasOwnProperty=1&a=2',
    'types[]=mention&types[]=follow',
    'a[b][c]=1',
    'a=%41&b=c+d',
    'a=1;b=2',
    'x'.repeat(65) + '=1',
    Array.from({ length: 17 }, (_, i) => `k${i}=v`).join('&'),
  ])('parses %j as qs does', (text) => {
    const parsed = parseQueryString(text);
    expect(parsed).toEqual(qs.parse(text, QS));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it('agrees with qs on random queries over a small alphabet', () => {
    const alphabet = ['a', 'b', '_', '1', '=', '&', '.', '-', 'limit', 'max_id', 'toString'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % alphabet.length;
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({ length: 1 + (i % 12) }, next).map((k) => alphabet[k]).join('');
      expect(parseQueryString(text), text).toEqual(qs.parse(text, QS));
    }
  });
});
