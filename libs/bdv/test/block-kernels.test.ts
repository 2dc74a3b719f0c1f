import { afterEach, describe, expect, it } from 'vitest';
import { levelShape, type Zyx } from '../src/model/pyramid-spec.js';
import { blockKernels, TYPESCRIPT_KERNELS, type BlockKernels } from '../src/pyramid/block-kernels.js';
import { LevelStream } from '../src/pyramid/level-stream.js';
import { seededRandom } from '../../../test/support/seeded-random.js';

// The pyramid's loops in C (libs/bdv/native/bdv_pyramid.c, docs/adr/031) against the TypeScript
// ones (block-mean.ts, themselves checked voxel by voxel in block-mean.test.ts): the same float64
// sums and the same means to the bit, on edges that overhang, every block width's loop, and the
// extremes of uint16. block-mean.test.ts's LevelStream cases run whichever blockKernels() gives.
const native = (() => {
  const kernels = blockKernels();
  return kernels === TYPESCRIPT_KERNELS ? undefined : kernels;
})();
const run = native ? it : it.skip;

/** Repeatable uint16 noise, with runs of 0 and 65535 mixed in. */
function noise(n: number, seed: number): Uint16Array {
  const next = seededRandom(seed);
  return Uint16Array.from({ length: n }, (_, i) =>
    i % 97 < 5 ? 65535 : i % 89 < 3 ? 0 : Math.floor(next() * 65536),
  );
}

/** An accumulator already holding sums of earlier planes (integers, as the stream's are). */
function startedSums(n: number, seed: number): Float64Array {
  return Float64Array.from(noise(n, seed), (v) => v * 7);
}

const sumsOf = (ny: number, nx: number, fy: number, fx: number) => Math.ceil(ny / fy) * Math.ceil(nx / fx);

describe('the pyramid binding (bdv_pyramid)', () => {
  afterEach(() => {
    delete process.env.BDV_NATIVE_PYRAMID;
  });

  it('is built (npm run build with a C compiler)', () => {
    expect(native, 'run `npm run build` with a C compiler (scripts/install-test-deps.sh)').toBeDefined();
  });

  const planes: [number, number][] = [
    [1, 1],
    [7, 13],
    [33, 64],
    [64, 33],
    [17, 258],
  ];
  const factors: [number, number][] = [
    [1, 1],
    [2, 2],
    [4, 4],
    [1, 3],
    [3, 1],
    [2, 5],
    [16, 16],
    [7, 4],
  ];

  /** Each sum loop over its own kind of plane (the input's uint16, a finer level's float64 sums). */
  type SumLoop = (k: BlockKernels, ny: number, nx: number, fy: number, fx: number, acc: Float64Array) => void;
  const sumLoops: [string, SumLoop][] = [
    [
      'addPlaneBlockSums',
      (k, ny, nx, fy, fx, acc) => k.addPlaneBlockSums(noise(ny * nx, ny * 31 + nx), ny, nx, fy, fx, acc),
    ],
    [
      'addSumPlaneBlockSums',
      (k, ny, nx, fy, fx, acc) =>
        k.addSumPlaneBlockSums(startedSums(ny * nx, nx * 13 + ny), ny, nx, fy, fx, acc),
    ],
  ];

  run('adds block sums as the TypeScript loops do, for every plane and factor', () => {
    for (const [loop, sum] of sumLoops)
      for (const [ny, nx] of planes)
        for (const [fy, fx] of factors) {
          const want = startedSums(sumsOf(ny, nx, fy, fx), fy * 7 + fx);
          const got = want.slice();
          sum(TYPESCRIPT_KERNELS, ny, nx, fy, fx, want);
          sum(native!, ny, nx, fy, fx, got);
          expect(got, `${loop} ${ny}x${nx} by ${fy},${fx}`).toEqual(want);
        }
  });

  run('sums blocks too large for 32-bit sums (over 65,536 voxels of 65535) exactly', () => {
    const [ny, nx, fy, fx] = [301, 300, 300, 300];
    const plane = new Uint16Array(ny * nx).fill(65535);
    const want = new Float64Array(sumsOf(ny, nx, fy, fx));
    const got = want.slice();
    TYPESCRIPT_KERNELS.addPlaneBlockSums(plane, ny, nx, fy, fx, want);
    native!.addPlaneBlockSums(plane, ny, nx, fy, fx, got);
    expect(got).toEqual(want);
    expect(got[0]).toBe(300 * 300 * 65535); // past 2^32
  });

  run('takes the floor of each mean and clears the sums, as the TypeScript loop does', () => {
    for (const divisor of [1, 8, 27, 64, 4096, 2 ** 20]) {
      const sums = Float64Array.from(
        noise(1000, divisor),
        (v, i) => (v * divisor + (i % divisor)) % (65536 * divisor),
      );
      const want = new Uint16Array(1003).fill(7);
      const got = want.slice();
      const left = sums.slice();
      TYPESCRIPT_KERNELS.takeBlockMeans(sums, divisor, want);
      native!.takeBlockMeans(left, divisor, got);
      expect(got, `divisor ${divisor}`).toEqual(want);
      expect(left.every((v) => v === 0)).toBe(true);
      expect(got.subarray(1000)).toEqual(new Uint16Array([7, 7, 7])); // past the sums: untouched
    }
  });

  run('stores sums no pyramid makes as a Uint16Array would (NaN 0, modulo 2^16)', () => {
    const odd = [NaN, Infinity, -Infinity, -1, -196613, 2 ** 31 + 5, 2 ** 40 + 7, 65536, 1e300, -0.5];
    const want = new Uint16Array(odd.length);
    const got = new Uint16Array(odd.length);
    TYPESCRIPT_KERNELS.takeBlockMeans(Float64Array.from(odd), 1, want);
    native!.takeBlockMeans(Float64Array.from(odd), 1, got);
    expect(got).toEqual(want);
  });

  run('refuses arrays shorter than the plane asks, and wrong types, writing nothing', () => {
    const acc = new Float64Array(4).fill(3);
    const k = native!;
    expect(() => k.addPlaneBlockSums(new Uint16Array(15), 4, 4, 2, 2, acc)).toThrow(RangeError);
    expect(() => k.addPlaneBlockSums(new Uint16Array(16), 4, 4, 1, 2, acc)).toThrow(/shorter/);
    expect(() => k.addPlaneBlockSums(new Uint16Array(16), 4, 4, 0, 2, acc)).toThrow(RangeError);
    expect(() => k.addPlaneBlockSums(new Uint16Array(16), 4, 4.5, 2, 2, acc)).toThrow(RangeError);
    expect(() => k.addPlaneBlockSums(new Uint8Array(32) as unknown as Uint16Array, 4, 4, 2, 2, acc)).toThrow(
      TypeError,
    );
    expect(() => k.addSumPlaneBlockSums(new Float64Array(15), 4, 4, 2, 2, acc)).toThrow(RangeError);
    expect(() => k.takeBlockMeans(acc, 4, new Uint16Array(3))).toThrow(/out is shorter/);
    expect(() => k.takeBlockMeans(acc, 0, new Uint16Array(4))).toThrow(RangeError);
    expect(Array.from(acc)).toEqual([3, 3, 3, 3]);
  });

  run('gives a level stream the same levels as the TypeScript loops (BDV_NATIVE_PYRAMID=off)', () => {
    const shape: Zyx = [21, 37, 41];
    const plane = shape[1] * shape[2];
    const stack = noise(shape[0] * plane, 5);
    const levels = (): Uint16Array[] => {
      const chain: Zyx[] = [
        [2, 2, 2],
        [4, 4, 4],
        [8, 12, 8],
      ];
      const out = chain.map((f) => new Uint16Array(levelShape(shape, f).reduce((a, b) => a * b)));
      const sink = (i: number) => (z0: number, slab: Uint16Array) => {
        const s = levelShape(shape, chain[i]!);
        out[i]!.set(slab, z0 * s[1] * s[2]);
      };
      const first = new LevelStream(shape, chain[0]!, 4, sink(0));
      const second = LevelStream.feeding(first, chain[0]!, chain[1]!, 2, sink(1));
      const third = LevelStream.feeding(second, chain[1]!, chain[2]!, 1, sink(2));
      for (let z = 0; z < shape[0]; z += 3) {
        const depth = Math.min(3, shape[0] - z);
        first.push(stack.subarray(z * plane, (z + depth) * plane), depth);
      }
      for (const s of [first, second, third]) s.finish();
      return out;
    };
    const fromBinding = levels();
    process.env.BDV_NATIVE_PYRAMID = 'off';
    expect(blockKernels()).toBe(TYPESCRIPT_KERNELS);
    expect(fromBinding).toEqual(levels());
  });
});
