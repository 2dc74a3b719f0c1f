import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Appender, crc32Combine } from '../src/model/crc32-combine.js';

describe('crc32Combine (CRC-32 of a concatenation from its parts)', () => {
  const lengths: [number, number][] = [
    [0, 0],
    [0, 5],
    [5, 0],
    [1, 1],
    [3, 1000],
    [4096, 12_345],
    [(1 << 20) + 3, (1 << 21) + 7],
  ];
  for (const [la, lb] of lengths)
    it(`matches zlib's CRC of the whole for parts of ${la} and ${lb} bytes`, () => {
      const a = randomBytes(la);
      const b = randomBytes(lb);
      const whole = crc32(Buffer.concat([a, b]));
      expect(crc32Combine(crc32(a), crc32(b), lb)).toBe(whole);
      expect(crc32Appender(lb)(crc32(a), crc32(b))).toBe(whole);
    });

  it('sums many equal parts in order, as a level is summed plane by plane', () => {
    const planes = Array.from({ length: 9 }, () => randomBytes(777));
    const append = crc32Appender(777);
    const combined = planes.reduce((crc, plane) => append(crc, crc32(plane)), 0);
    expect(combined).toBe(crc32(Buffer.concat(planes)));
  });

  it('holds for lengths past 2^32 bytes (a plane of a 2^20-wide stack): shifts compose', () => {
    // Lengths this large cannot be hashed here; the algebra can be checked: shifting A past n
    // bytes and then past 64 must be shifting it past n + 64 at once.
    const a = crc32(randomBytes(64));
    const b = crc32(randomBytes(64));
    const n = 2 ** 33 + 12_345;
    const viaTwo = crc32Combine(crc32Combine(a, 0, n), b, 64);
    const viaOne = (crc32Combine(a, 0, n + 64) ^ crc32Combine(0, b, 64)) >>> 0;
    expect(viaTwo).toBe(viaOne);
    expect(crc32Combine(a, b, 2 ** 40)).not.toBe(crc32Combine(a, b, 2 ** 40 + 1));
  });

  it('refuses a length that is not a byte count', () => {
    expect(() => crc32Combine(1, 2, -1)).toThrow(RangeError);
    expect(() => crc32Combine(1, 2, 0.5)).toThrow(RangeError);
    expect(() => crc32Appender(2 ** 53)).toThrow(RangeError);
  });
});
