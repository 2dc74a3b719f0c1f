import { describe, expect, it } from 'vitest';
import {
  MAX_VIEW_CHUNKS,
  resolveLevels,
  viewBufferProblem,
  viewChunkWeight,
  type Zyx,
} from '../src/index.js';

const levels = (blocks: number[][], factors: number[][] = [[1, 1, 1]]) => resolveLevels(factors, blocks);

describe("a view's HDF5 chunks", () => {
  it('are counted per level, rounding up on every axis, small chunks weighing more', () => {
    // 10x100x100 in 4,32,32: 3 x 4 x 4 chunks of 4096 voxels
    expect(viewChunkWeight([10, 100, 100], levels([[4, 32, 32]]))).toBe(48);
    // the same in 1,4,4 (16 voxels): 10 x 25 x 25 chunks, each counting 16
    expect(viewChunkWeight([10, 100, 100], levels([[1, 4, 4]]))).toBe(6250 * 16);
    // two levels: 1,1,1 then 2,2,2 (5x50x50 in 4,32,32: 2 x 2 x 2)
    expect(
      viewChunkWeight(
        [10, 100, 100],
        levels(
          [[4, 32, 32]],
          [
            [1, 1, 1],
            [2, 2, 2],
          ],
        ),
      ),
    ).toBe(48 + 8);
  });

  it('refuse blocks so small for a stack that HDF5 would exhaust the heap (the review: 1,1,1)', () => {
    const shape: Zyx = [96, 512, 512];
    const problem = viewBufferProblem(shape, levels([[1, 1, 1]]));
    expect(problem).toBe(
      `a 96x512x512 (z,y,x) stack in blocks 1,1,1 makes ${96 * 512 * 512 * 16} HDF5 chunks (a chunk under 1024 voxels counts 16), ` +
        `more than the ${MAX_VIEW_CHUNKS} a writer keeps track of; use blocks with 96x the voxels or more (wider in y and x keeps the slabs as they are)`,
    );
    // measured at 1.8 GiB of heap, and out of heap (docs: model/limits.ts)
    expect(viewBufferProblem([64, 512, 512], levels([[2, 4, 4]]))).toMatch(/more than the 4194304/);
    expect(viewBufferProblem([64, 512, 512], levels([[1, 4, 4]]))).toMatch(/more than the 4194304/);
    // 980 MiB measured: within the heap
    expect(viewBufferProblem([64, 512, 512], levels([[4, 4, 4]]))).toBeUndefined();
  });

  it('say what to change, and mention the weighting only where a chunk is small', () => {
    const deep = levels(
      [[16, 16, 16]],
      [
        [1, 1, 1],
        [2, 2, 2],
        [4, 4, 4],
      ],
    );
    const problem = viewBufferProblem([4096, 2048, 2048], deep)!;
    expect(problem).toMatch(
      /makes \d+ HDF5 chunks, more than the 4194304 .*; use blocks with 2x the voxels or more/,
    );
    expect(problem).not.toContain('counts 16');
  });

  it("keep BigDataViewer's 16,16,16 on stacks of tens of GiB and npy2bdv's default on far larger ones", () => {
    const bdvDefault = levels(
      [[16, 16, 16]],
      [
        [1, 1, 1],
        [2, 2, 2],
        [4, 4, 4],
        [8, 8, 8],
      ],
    );
    expect(viewBufferProblem([512, 2048, 2048], bdvDefault)).toBeUndefined(); // 378 MiB measured
    expect(viewBufferProblem([3072, 2048, 2048], bdvDefault)).toBeUndefined(); // 24 GiB
    expect(viewBufferProblem([8192, 2048, 2048], levels([[4, 256, 256]]))).toBeUndefined();
    expect(viewBufferProblem([64, 512, 512], levels([[16, 4, 4]]))).toBeUndefined(); // 353 MiB measured
  });
});
