import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import {
  assertStackShape,
  assertTimeIndex,
  BdvWriter,
  MAX_VIEW_BUFFER_BYTES,
  resolveLevels,
  resolveSetupCounts,
  resolveViewMetadata,
  viewBufferBytes,
  viewBufferProblem,
} from '../src/index.js';

const dir = tempDir('bdv-limits-');
afterAll(() => dir.remove());

describe('size caps of the format core (model/limits.ts)', () => {
  it('bounds setup counts, their product and time indices', () => {
    expect(() => resolveSetupCounts({ channels: 20_000 })).toThrow(
      /setup\.channels: must be an integer 1\.\.10000/,
    );
    expect(() => resolveSetupCounts({ channels: 1e9 })).toThrow(/setup\.channels/);
    expect(() => resolveSetupCounts({ channels: 200, tiles: 100 })).toThrow(
      /20000 setups .* more than 10000/,
    );
    expect(resolveSetupCounts({ channels: 100, tiles: 100 }).tiles).toBe(100);
    expect(() => assertTimeIndex(2 ** 53 - 1)).toThrow(/0\.\.99999/);
    expect(() => assertTimeIndex(100_000)).toThrow(/time index/);
    expect(() => assertTimeIndex(99_999)).not.toThrow();
  });

  it('bounds levels, factors and chunks, and wants a pyramid that goes down', () => {
    const many = Array.from({ length: 11 }, (_, i) => [1, 2 ** i, 2 ** i]);
    expect(() => resolveLevels(many)).toThrow(/subsamplingZyx: at most 10 levels/);
    expect(() => resolveLevels(Array.from({ length: 1000 }, () => [1, 1, 1]))).toThrow(/at most 10/);
    expect(() =>
      resolveLevels([
        [1, 1, 1],
        [1, 1, 1],
      ]),
    ).toThrow(/subsamplingZyx\[1\]: must subsample/);
    expect(() =>
      resolveLevels([
        [1, 1, 1],
        [2, 4, 4],
        [4, 2, 8],
      ]),
    ).toThrow(/subsamplingZyx\[2\]/);
    expect(() => resolveLevels([[2, 2, 2]])).toThrow(/subsamplingZyx\[0\]: level 0 must be full resolution/);
    expect(() =>
      resolveLevels([
        [1, 1, 1],
        [1, 2048, 2048],
      ]),
    ).toThrow(/subsamplingZyx\[1\]/);
    expect(() => resolveLevels(undefined, [[1e9, 1e9, 1e9]])).toThrow(/blockSizeZyx\[0\]/);
    expect(() => resolveLevels(undefined, [[257, 16, 16]])).toThrow(/blockSizeZyx\[0\]/);
    expect(() => resolveLevels(undefined, [[256, 4096, 4096]])).toThrow(/chunk of 4294967296 voxels/);
    const ok = resolveLevels(
      [
        [1, 1, 1],
        [1, 2, 2],
        [2, 4, 4],
      ],
      [[16, 256, 256]],
    );
    expect(ok.map((l) => l.blockZyx)).toEqual([
      [16, 256, 256],
      [16, 256, 256],
      [16, 256, 256],
    ]);
  });

  it('bounds stack shapes and the chunk-deep slabs one view buffers', () => {
    expect(() => assertStackShape('shapeZyx', [2 ** 21, 1, 1])).toThrow(/shapeZyx/);
    expect(() => assertStackShape('shapeZyx', [2 ** 20, 2 ** 20, 2 ** 20])).toThrow(/voxels/);
    const levels = resolveLevels(
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
      [[4, 256, 256]],
    );
    // 2048x2048 planes, blocks 4 deep: 32 MiB + (8 MiB + 8 MiB accumulator) at level 1
    expect(viewBufferBytes([100, 2048, 2048], levels)).toBe(
      4 * 2048 * 2048 * 2 + 4 * 1024 * 1024 * 2 + 1024 * 1024 * 8,
    );
    expect(viewBufferProblem([100, 2048, 2048], levels)).toBeUndefined();
    const deep = resolveLevels([[1, 1, 1]], [[64, 64, 64]]);
    expect(viewBufferBytes([100, 2048, 2048], deep)).toBeGreaterThan(MAX_VIEW_BUFFER_BYTES);
    expect(viewBufferProblem([100, 2048, 2048], deep)).toMatch(/needs 512 MiB of chunk-deep slabs/);
  });

  it('refuses a view whose slabs would break the memory bound before reading a byte of it', async () => {
    const h5 = join(dir.path, 'deep.h5');
    const writer = await BdvWriter.create(h5, { blockSizeZyx: [[64, 64, 64]] });
    let read = false;
    async function* slabs(): AsyncGenerator<Uint16Array> {
      read = true;
      yield new Uint16Array(0);
    }
    await expect(writer.appendView({ shapeZyx: [128, 2048, 2048], slabs: slabs() })).rejects.toThrow(
      /blockSizeZyx: a 128x2048x2048 \(z,y,x\) stack with these blocks needs 512 MiB/,
    );
    expect(read).toBe(false);
    await writer.close();
    expect(existsSync(h5)).toBe(true);
  });

  it('wants voxel sizes > 0, a non-zero calibration, an invertible affine and a non-negative exposure', () => {
    expect(() => resolveViewMetadata({ voxelSizeXyz: [0, 1, 1] })).toThrow(
      /voxelSizeXyz: must be 3 numbers > 0/,
    );
    expect(() => resolveViewMetadata({ voxelSizeXyz: [-0.5, 1, 1] })).toThrow(/voxelSizeXyz/);
    expect(() => resolveViewMetadata({ calibrationXyz: [1, 0, 1] })).toThrow(
      /calibrationXyz: must be 3 non-zero/,
    );
    expect(resolveViewMetadata({ calibrationXyz: [-1, 1, 1] }).calibrationXyz).toEqual([-1, 1, 1]);
    expect(() => resolveViewMetadata({ affine: new Array(12).fill(0) })).toThrow(
      /affine: its 3x3 part is singular/,
    );
    expect(() => resolveViewMetadata({ affine: [1, 2, 3, 0, 2, 4, 6, 0, 0, 0, 1, 0] })).toThrow(/singular/);
    expect(resolveViewMetadata({ affine: [0, 1, 0, 5, 1, 0, 0, 0, 0, 0, 1e-3, 0] }).affine).toHaveLength(12);
    expect(() => resolveViewMetadata({ exposureTime: -1 })).toThrow(
      /exposureTime: must be a finite number >= 0/,
    );
    expect(() => resolveViewMetadata({ voxelUnits: 'x'.repeat(257) })).toThrow(
      /voxelUnits: must be at most 256/,
    );
    expect(() => resolveViewMetadata({ cameraName: 'Orca\u0001' })).toThrow(/cameraName: holds U\+0001/);
    expect(() => resolveViewMetadata({ affineName: 'a\uD800' })).toThrow(
      /affineName: holds a lone UTF-16 surrogate/,
    );
  });
});
