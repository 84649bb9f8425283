import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from '../../src/push/random-pool.js';

describe('pooledRandomBytes', () => {
  it('hands out each byte once, across block boundaries', () => {
    const draws = Array.from({ length: 1000 }, () => pooledRandomBytes(16));
    for (const bytes of draws) expect(bytes.length).toBe(16);
    // No two draws share memory: 1,000 salts span several 4 KB blocks.
    const regions = new Map<ArrayBufferLike, [number, number][]>();
    for (const bytes of draws) {
      const list = regions.get(bytes.buffer) ?? [];
      for (const [start, end] of list) expect(bytes.byteOffset >= end || bytes.byteOffset + 16 <= start).toBe(true);
      list.push([bytes.byteOffset, bytes.byteOffset + 16]);
      regions.set(bytes.buffer, list);
    }
    expect(regions.size).toBeGreaterThan(1);
    expect(new Set(draws.map((b) => b.toString('hex'))).size).toBe(1000);
  });

  it('serves a request larger than a block on its own', () => {
    const bytes = pooledRandomBytes(10_000);
    expect(bytes.length).toBe(10_000);
    expect(new Set(bytes).size).toBeGreaterThan(200);
  });
});
