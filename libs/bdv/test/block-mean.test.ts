import { describe, expect, it } from 'vitest';
import { downsampleStack, levelShape, type Zyx } from '../src/index.js';
import { LevelStream } from '../src/pyramid/level-stream.js';
import type { Scratch, ScratchMemory } from '../src/pyramid/scratch-memory.js';

/** The plainest possible statement of npy2bdv's rule, voxel by voxel. */
function naive(stack: Uint16Array, s: Zyx, f: Zyx): Uint16Array {
  const o = levelShape(s, f);
  const out = new Uint16Array(o[0] * o[1] * o[2]);
  for (let z = 0; z < o[0]; z++)
    for (let y = 0; y < o[1]; y++)
      for (let x = 0; x < o[2]; x++) {
        let sum = 0;
        for (let dz = 0; dz < f[0]; dz++)
          for (let dy = 0; dy < f[1]; dy++)
            for (let dx = 0; dx < f[2]; dx++) {
              const zz = z * f[0] + dz;
              const yy = y * f[1] + dy;
              const xx = x * f[2] + dx;
              if (zz < s[0] && yy < s[1] && xx < s[2]) sum += stack[(zz * s[1] + yy) * s[2] + xx]!;
            }
        out[(z * o[1] + y) * o[2] + x] = Math.floor(sum / (f[0] * f[1] * f[2]));
      }
  return out;
}

function random(n: number, seed: number): Uint16Array {
  const a = new Uint16Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    a[i] = x & 0xffff;
  }
  return a;
}

const cases: [Zyx, Zyx][] = [
  [
    [7, 13, 11],
    [2, 4, 4],
  ],
  [
    [5, 9, 10],
    [1, 2, 3],
  ],
  [
    [9, 8, 8],
    [3, 1, 1],
  ],
  [
    [3, 5, 7],
    [4, 8, 8],
  ],
  [
    [6, 6, 6],
    [1, 1, 1],
  ],
];

describe('block mean (zero-padded, floor)', () => {
  it.each(cases)('downsampleStack %j by %j equals the voxel-by-voxel rule', (shape, f) => {
    const stack = random(shape[0] * shape[1] * shape[2], 7);
    expect(downsampleStack(stack, shape, f)).toEqual(naive(stack, shape, f));
  });

  it('keeps the top of the uint16 range (no int16 sign errors)', () => {
    const stack = new Uint16Array(2 * 2 * 2).fill(65535);
    expect(Array.from(downsampleStack(stack, [2, 2, 2], [2, 2, 2]))).toEqual([65535]);
    expect(Array.from(downsampleStack(stack, [2, 2, 2], [4, 4, 4]))).toEqual([Math.floor((8 * 65535) / 64)]);
  });

  it.each([1, 2, 3, 5, 16])('LevelStream gives the same levels for input slabs of %i planes', (slabDepth) => {
    const shape: Zyx = [11, 10, 9];
    const plane = shape[1] * shape[2];
    const stack = random(shape[0] * plane, 3);
    for (const [f, outDepth] of [
      [[2, 2, 2], 4],
      [[1, 1, 1], 4],
      [[3, 2, 4], 1],
      [[1, 1, 1], 3],
    ] as [Zyx, number][]) {
      const got = new Uint16Array(levelShape(shape, f).reduce((a, b) => a * b));
      const planeOut = levelShape(shape, f)[1] * levelShape(shape, f)[2];
      const writes: [number, number][] = [];
      const stream = new LevelStream(shape, f, outDepth, (z0, slab, depth) => {
        writes.push([z0, depth]);
        got.set(slab, z0 * planeOut);
      });
      for (let z = 0; z < shape[0]; z += slabDepth) {
        stream.push(
          stack.subarray(z * plane, Math.min(shape[0], z + slabDepth) * plane),
          Math.min(slabDepth, shape[0] - z),
        );
      }
      stream.finish();
      expect(got).toEqual(naive(stack, shape, f));
      // every write but the last covers whole chunks
      for (const [z0, depth] of writes.slice(0, -1)) {
        expect(z0 % outDepth).toBe(0);
        expect(depth % outDepth).toBe(0);
      }
    }
  });

  it('re-makes every view after a sink call, as the wasm heap needs when it grows', () => {
    // Memory that moves on every sink call, like the heap when HDF5 grows it: the old
    // ArrayBuffer is detached (its views read as empty), the bytes live on in a new one.
    const moving: { buffer: ArrayBuffer }[] = [];
    const move = () => {
      for (const area of moving) {
        const copy = area.buffer.slice(0);
        structuredClone(area.buffer, { transfer: [area.buffer] });
        area.buffer = copy;
      }
    };
    const area = <T>(make: (b: ArrayBuffer) => T, bytes: number): Scratch<T> => {
      const held = { buffer: new ArrayBuffer(bytes) };
      moving.push(held);
      return { view: () => make(held.buffer), release: () => undefined };
    };
    const memory: ScratchMemory = {
      uint16: (n) => area((b) => new Uint16Array(b), n * 2),
      float64: (n) => area((b) => new Float64Array(b), n * 8),
    };
    const shape: Zyx = [13, 6, 7];
    const plane = shape[1] * shape[2];
    const stack = random(shape[0] * plane, 9);
    for (const f of [
      [2, 2, 2],
      [1, 1, 1],
      [1, 3, 2],
    ] as Zyx[]) {
      moving.length = 0;
      const planeOut = levelShape(shape, f)[1] * levelShape(shape, f)[2];
      const got = new Uint16Array(levelShape(shape, f).reduce((a, b) => a * b));
      const input = area((b) => new Uint16Array(b), 5 * plane * 2);
      const stream = new LevelStream(
        shape,
        f,
        2,
        (z0, slab) => {
          got.set(slab, z0 * planeOut);
          move();
        },
        memory,
      );
      // A coarser level fed by this one's sums, in the same moving memory.
      const coarse: Zyx = [f[0] * 2, f[1] * 2, f[2] * 3];
      const coarseOut = levelShape(shape, coarse);
      const gotCoarse = new Uint16Array(coarseOut.reduce((a, b) => a * b));
      const child = LevelStream.canFeed(f, coarse)
        ? LevelStream.feeding(
            stream,
            f,
            coarse,
            1,
            (z0, slab) => {
              gotCoarse.set(slab, z0 * coarseOut[1] * coarseOut[2]);
              move();
            },
            memory,
          )
        : undefined;
      for (let z = 0; z < shape[0]; z += 5) {
        const depth = Math.min(5, shape[0] - z);
        input.view().set(stack.subarray(z * plane, (z + depth) * plane));
        stream.push(() => input.view().subarray(0, depth * plane), depth);
      }
      stream.finish();
      child?.finish();
      expect(got).toEqual(naive(stack, shape, f));
      if (child) expect(gotCoarse).toEqual(naive(stack, shape, coarse));
      else expect(f).toEqual([1, 1, 1]);
    }
  });

  it.each([1, 3, 4])(
    "a level fed by a finer level's block sums equals the level from the input (slabs of %i planes)",
    (slabDepth) => {
      const shape: Zyx = [19, 21, 23];
      const plane = shape[1] * shape[2];
      const stack = random(shape[0] * plane, 11);
      for (const chain of [
        [
          [2, 2, 2],
          [4, 4, 4],
          [8, 8, 8],
        ],
        [
          [1, 2, 2],
          [2, 4, 4],
          [2, 12, 8],
        ],
        [
          [1, 3, 1],
          [3, 3, 5],
        ],
      ] as Zyx[][]) {
        const got = chain.map((f) => new Uint16Array(levelShape(shape, f).reduce((a, b) => a * b)));
        const streams: LevelStream[] = [];
        chain.forEach((f, l) => {
          const planeOut = levelShape(shape, f)[1] * levelShape(shape, f)[2];
          const sink = (z0: number, slab: Uint16Array) => got[l]!.set(slab, z0 * planeOut);
          expect(l === 0 || LevelStream.canFeed(chain[l - 1]!, f)).toBe(true);
          streams.push(
            l === 0
              ? new LevelStream(shape, f, 2, sink)
              : LevelStream.feeding(streams[l - 1]!, chain[l - 1]!, f, 3, sink),
          );
        });
        for (let z = 0; z < shape[0]; z += slabDepth) {
          const depth = Math.min(slabDepth, shape[0] - z);
          streams[0]!.push(stack.subarray(z * plane, (z + depth) * plane), depth);
        }
        for (const stream of streams) stream.finish();
        chain.forEach((f, l) => expect(got[l], `${JSON.stringify(f)}`).toEqual(naive(stack, shape, f)));
      }
      expect(LevelStream.canFeed([2, 2, 2], [3, 4, 4])).toBe(false);
      expect(LevelStream.canFeed([1, 1, 1], [2, 2, 2])).toBe(false);
    },
  );
});
