import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from '../../src/push/random-pool.js';

describe('pooledRandomBytes', () => {
  it('hands out each byte once, across block boundaries', () => {
    // 16,000 bytes: several 4 KB blocks.
    const draws = Array.from({ length: 1000 }, () => pooledRandomBytes(16));
    for (const bytes of draws) expect(bytes.length).toBe(16);
    // No two draws share memory: within each backing buffer, the ranges sorted by offset never overlap.
    const byBuffer = new Map<ArrayBufferLike, number[]>();
    for (const bytes of draws) byBuffer.set(bytes.buffer, [...(byBuffer.get(bytes.buffer) ?? []), bytes.byteOffset]);
    const overlaps = [...byBuffer.values()].flatMap((offsets) =>
      offsets.sort((a, b) => a - b).filter((offset, i) => i > 0 && offset < offsets[i - 1] + 16),
    );
    expect(overlaps).toEqual([]);
    expect(new Set(draws.map((b) => b.toString('hex'))).size).toBe(1000);
  });

  it('serves a request larger than a block on its own', () => {
    const bytes = pooledRandomBytes(10_000);
    expect(bytes.length).toBe(10_000);
    expect(new Set(bytes).size).toBeGreaterThan(200);
  });
});
