import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { comparePixels, PYTHON, tempDir } from '../../../test/support/oracle.js';
import { BdvWriter, type Zyx } from '../src/index.js';

const dir = tempDir('bdv-lzf-');
afterAll(() => dir.remove());

/**
 * One 8x64x64 stack whose 4x32x64 chunks are, in z,y order: noise, noise, a ramp of distinct
 * values, and a few repeated values. LZF cannot shrink the first three.
 */
function mixedStack(shape: Zyx): Uint16Array {
  const [nz, ny, nx] = shape;
  const a = new Uint16Array(nz * ny * nx);
  let seed = 12345;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        const i = (z * ny + y) * nx + x;
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        if (z < 4) a[i] = seed >>> 16;
        else if (y < ny / 2) a[i] = (i * 7919) & 0xffff;
        else a[i] = (i >> 9) & 3;
      }
  return a;
}

/** Each level-0 chunk's filter mask (bit 0 set = stored without LZF) and the filter h5py reports. */
function chunkMasks(h5: string, dataset: string): { compression: string; masks: number[] } {
  const script = [
    'import sys, json, h5py',
    'd = h5py.File(sys.argv[1], "r")[sys.argv[2]]',
    'masks = [d.id.get_chunk_info(i).filter_mask for i in range(d.id.get_num_chunks())]',
    'print(json.dumps({"compression": d.compression, "masks": masks}))',
  ].join('\n');
  return JSON.parse(execFileSync(PYTHON, ['-c', script, h5, dataset], { encoding: 'utf8' })) as {
    compression: string;
    masks: number[];
  };
}

describe('lzf on chunks that do not compress', () => {
  it('stores noise and ramp chunks unfiltered beside compressed ones, read back by h5py pixel-identical', async () => {
    const h5 = join(dir.path, 'mixed.h5');
    const shape: Zyx = [8, 64, 64];
    const stack = mixedStack(shape);
    const subsampling = [
      [1, 1, 1],
      [2, 2, 2],
    ];
    const writer = await BdvWriter.create(h5, {
      compression: 'lzf',
      subsamplingZyx: subsampling,
      blockSizeZyx: [[4, 32, 64]],
    });
    await writer.appendView({ shapeZyx: shape, data: stack });
    await writer.writeXml();
    await writer.close();

    const raw = join(dir.path, 'mixed.raw');
    writeFileSync(raw, Buffer.from(stack.buffer, stack.byteOffset, stack.byteLength));
    const [view] = comparePixels({
      h5,
      subsampling_zyx: subsampling,
      views: [{ time: 0, setup: 0, raw: { path: raw, shape, dtype: '<u2' } }],
    });
    for (const level of view!.levels) expect(level.mismatches, `level ${level.level}`).toBe(0);

    const level0 = chunkMasks(h5, 't00000/s00/0/cells');
    expect(level0.compression).toBe('lzf');
    // chunk order z,y: noise, noise, ramp → raw (mask 1); repeated values → LZF (mask 0)
    expect(level0.masks).toEqual([1, 1, 1, 0]);
  });
});
