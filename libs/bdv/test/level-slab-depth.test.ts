import { describe, expect, it } from 'vitest';
import { readSlabDepth as slabDepth } from '../src/h5/read-slab-depth.js';

// Verification and previews read whole chunks deep (each chunk decompressed once), within a memory bound.
describe('readSlabDepth', () => {
  const MiB = 1024 * 1024;
  const bytes = (shape: [number, number, number], depth: number) => depth * shape[1] * shape[2] * 2;

  it('reads whole chunks deep, several rows of chunks when they are small', () => {
    expect(slabDepth([64, 2048, 2048], 4)).toBe(4); // one 32 MiB row of 4-deep chunks
    expect(slabDepth([64, 1024, 1024], 4)).toBe(8); // two 8 MiB rows: 16 MiB
    expect(slabDepth([64, 512, 512], 16)).toBe(32); // two 8 MiB rows of 16-deep chunks
  });

  it('cuts inside chunks only when one row of them would pass 64 MiB', () => {
    const deep: [number, number, number] = [64, 2048, 2048];
    expect(slabDepth(deep, 16)).toBe(8); // 128 MiB per row of 16-deep chunks
    expect(bytes(deep, slabDepth(deep, 16))).toBeLessThanOrEqual(64 * MiB);
    expect(slabDepth([4, 8192, 8192], 1)).toBe(1); // a 128 MiB plane: one plane at a time
  });

  it('takes a smaller target, never below one row of chunks', () => {
    expect(slabDepth([64, 1024, 1024], 4, 8 * MiB)).toBe(4); // the preview's 8 MiB: one 8 MiB row
    expect(slabDepth([64, 2048, 2048], 4, 8 * MiB)).toBe(4); // a 32 MiB row is read whole
    expect(slabDepth([64, 300, 350], 4, 1)).toBe(4);
  });
});
