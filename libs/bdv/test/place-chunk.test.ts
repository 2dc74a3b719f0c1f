import { describe, expect, it } from 'vitest';
import { nativeMemory } from '../src/h5/native-memory.js';
import type { Zyx } from '../src/model/pyramid-spec.js';
import { placeChunk } from '../src/verify/place-chunk.js';

// Verification puts each chunk's cells into its z-slab (libs/bdv/src/verify/place-chunk.ts): with
// the memory binding's copyBlock (libs/bdv/native/bdv_memory.c) in one call per chunk, without it
// row by row. Both must give the slab the C-order planes the writer summed, edges cut off.
const memory = nativeMemory();

/** A whole chunk whose every cell names its own (z, y, x) within the chunk: a misplaced row shows. */
function chunkCells([cz, cy, cx]: Zyx): Buffer {
  const cells = new Uint16Array(cz * cy * cx);
  for (let z = 0; z < cz; z++)
    for (let y = 0; y < cy; y++)
      for (let x = 0; x < cx; x++) cells[(z * cy + y) * cx + x] = (z << 12) | (y << 6) | x;
  return Buffer.from(cells.buffer);
}

/** The slab of planes z0.. as element-by-element placement gives it (the reference). */
function expectedSlab(shape: Zyx, chunk: Zyx, z0: number): Uint16Array {
  const [nz, ny, nx] = shape;
  const [cz, cy, cx] = chunk;
  const slab = new Uint16Array(cz * ny * nx).fill(0xffff);
  for (let z = 0; z < Math.min(cz, nz - z0); z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) slab[(z * ny + y) * nx + x] = (z << 12) | ((y % cy) << 6) | (x % cx);
  return slab;
}

/** Every chunk of the row of chunks at z0 placed into one slab, with or without the binding. */
function placedSlab(shape: Zyx, chunk: Zyx, z0: number, withBinding: boolean): Uint16Array {
  const [, ny, nx] = shape;
  const [cz, cy, cx] = chunk;
  const slab = new Uint8Array(cz * ny * nx * 2).fill(0xff);
  const cells = chunkCells(chunk);
  for (let y0 = 0; y0 < ny; y0 += cy)
    for (let x0 = 0; x0 < nx; x0 += cx)
      placeChunk(
        cells,
        { offsetZyx: [z0, y0, x0] },
        slab,
        { shapeZyx: shape, index: { chunkZyx: chunk } },
        withBinding ? memory : undefined,
      );
  return new Uint16Array(slab.buffer);
}

describe('placing a chunk into its slab', () => {
  it('has the memory binding (npm run build)', () => {
    expect(memory, 'run `npm run build` with a C compiler (scripts/install-test-deps.sh)').toBeDefined();
  });

  // Whole chunks, partial edge chunks on every axis, a last slab shallower than a chunk.
  const cases: { shape: Zyx; chunk: Zyx; z0: number }[] = [
    { shape: [8, 32, 48], chunk: [4, 16, 16], z0: 4 },
    { shape: [7, 37, 45], chunk: [4, 16, 16], z0: 4 },
    { shape: [3, 5, 3], chunk: [4, 4, 2], z0: 0 },
    { shape: [1, 1, 1], chunk: [1, 1, 1], z0: 0 },
    { shape: [9, 60, 33], chunk: [2, 64, 64], z0: 8 },
  ];
  for (const { shape, chunk, z0 } of cases)
    for (const withBinding of [true, false])
      it(`${shape.join('x')} in ${chunk.join(',')} chunks at z ${z0}, ${withBinding ? 'copyBlock' : 'row by row'}`, () => {
        expect(placedSlab(shape, chunk, z0, withBinding)).toEqual(expectedSlab(shape, chunk, z0));
      });
});

describe('copyBlock', () => {
  const run = memory ? it : it.skip;
  const src = new Uint8Array(64).map((_, i) => i);

  run('copies planes and rows with their own strides on each side, from a SharedArrayBuffer too', () => {
    const dst = new Uint8Array(new SharedArrayBuffer(40)).fill(0);
    // 2 planes x 2 rows x 3 bytes: src rows 8 apart, planes 32 apart; dst rows 5 apart, planes 20.
    expect(memory!.copyBlock(src, dst, 1, 2, 2, 3, 8, 32, 5, 20)).toBe(12);
    const expected = new Uint8Array(40);
    for (const [z, y] of [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ] as const)
      expected.set(src.subarray(z * 32 + y * 8, z * 32 + y * 8 + 3), 1 + z * 20 + y * 5);
    expect([...dst]).toEqual([...expected]);
  });

  run('copies nothing when any count is 0', () => {
    const dst = new Uint8Array(8);
    expect(memory!.copyBlock(src, dst, 100, 0, 5, 5, 1, 1, 1, 1)).toBe(0);
    expect(memory!.copyBlock(src, dst, 0, 1, 0, 5, 1, 1, 1, 1)).toBe(0);
    expect(dst.every((b) => b === 0)).toBe(true);
  });

  run('throws a RangeError, copying nothing, when one byte would fall outside either array', () => {
    const dst = new Uint8Array(16);
    // The last row ends one byte past src (src: (1*32 + 3*8) + 9 = 65 > 64).
    expect(() => memory!.copyBlock(src, dst, 0, 2, 4, 9, 8, 32, 0, 0)).toThrow(RangeError);
    // ... or past dst (dst: 8 + 1*4 + 5 = 17 > 16).
    expect(() => memory!.copyBlock(src, dst, 8, 1, 2, 5, 5, 0, 4, 0)).toThrow(/does not fit/);
    // Strides so large their products overflow 64 bits are still caught.
    expect(() => memory!.copyBlock(src, dst, 0, 2 ** 52, 2 ** 52, 1, 2 ** 52, 2 ** 52, 1, 1)).toThrow(
      RangeError,
    );
    expect(dst.every((b) => b === 0)).toBe(true);
  });

  run('refuses what is not a byte array or not a non-negative integer', () => {
    const dst = new Uint8Array(16);
    const copy = memory!.copyBlock as (...args: unknown[]) => number;
    expect(() => copy(new Uint16Array(4), dst, 0, 1, 1, 1, 1, 1, 1, 1)).toThrow(TypeError);
    expect(() => copy(src, dst, 0, 1, 1)).toThrow(TypeError);
    expect(() => copy(src, dst, -1, 1, 1, 1, 1, 1, 1, 1)).toThrow(/non-negative integers/);
    expect(() => copy(src, dst, 0.5, 1, 1, 1, 1, 1, 1, 1)).toThrow(RangeError);
    expect(() => copy(src, dst, 0, Number.NaN, 1, 1, 1, 1, 1, 1)).toThrow(RangeError);
    expect(() => copy(src, dst, 0, '1', 1, 1, 1, 1, 1, 1)).toThrow(RangeError);
  });
});
