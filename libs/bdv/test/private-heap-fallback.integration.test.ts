import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { comparePixels, describeBdv, tempDir } from '../../../test/support/oracle.js';
import { checksumPathFor, readChecksumFile, verifyDataset, type Zyx } from '../src/index.js';
import { checksumThread } from '../src/h5/checksum-thread.js';
import { heapPool } from '../src/h5/heap-slab-writer.js';
import { heapIsShared, preparedH5wasm } from '../src/h5/prepared-h5wasm.js';
import { writeTwoLevelView } from './heap-slab-stack.js';

// What a thread gets when the build's prepared copy of h5wasm cannot be used (docs/adr/014, 019):
// h5wasm's own module, whose heap is private, and the filter plugins as shipped. Everything the
// shared heap changed must still work there: slabs read into the heap, checksums computed on the
// writing thread, our LZF plugin found and loaded. Set before this file's first HDF5 load (each
// test file runs in a worker of its own).
process.env.BDV_H5WASM = 'package';

const dir = tempDir('bdv-private-heap-');
afterAll(() => dir.remove());

/** Camera-like cells (a gradient and noise) that LZF compresses, so the plugin's output is read back. */
function cameraStack(shape: Zyx): Uint16Array {
  const stack = new Uint16Array(shape[0] * shape[1] * shape[2]);
  let x = 7;
  for (let i = 0; i < stack.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    stack[i] = 100 + ((i >> 9) % 900) + ((x >>> 28) & 7);
  }
  return stack;
}

describe('HDF5 from the h5wasm package (BDV_H5WASM=package)', () => {
  it('loads with a private heap and the prepared copy left aside', async () => {
    expect(preparedH5wasm()).toBeUndefined();
    const { module } = await heapPool();
    expect(heapIsShared(module)).toBe(false);
    const paths = module.get_plugin_search_paths();
    expect(paths[0], 'our plugins first').toMatch(/libs\/bdv\/plugins$/);
    expect(paths.some((p) => p.includes('plugins-bdv') || p.includes('plugins-h5wasm'))).toBe(false);
  });

  it('writes a 64 MiB LZF view from heap slabs: pixels, record and read-back all agree', async () => {
    const shape: Zyx = [64, 512, 1024];
    const stack = cameraStack(shape);
    const h5 = join(dir.path, 'private.h5');
    const xml = await writeTwoLevelView(h5, stack, shape, 'lzf');

    expect(checksumThread().posted, 'a private heap is not read by the checksum thread').toBe(0);
    const record = readChecksumFile(checksumPathFor(xml));
    const level0 = record.views[0]!.levels.find((l) => l.level === 0)!;
    expect(level0.crc32).toBe(crc32(new Uint8Array(stack.buffer)).toString(16).padStart(8, '0'));
    expect((await verifyDataset(xml)).ok).toBe(true);

    const raw = join(dir.path, 'private.raw');
    writeFileSync(raw, new Uint8Array(stack.buffer));
    const [view] = comparePixels({
      h5,
      subsampling_zyx: [
        [1, 1, 1],
        [2, 2, 2],
      ],
      views: [{ time: 0, setup: 0, raw: { path: raw, shape, dtype: '<u2' } }],
    });
    expect(view!.levels.map((l) => l.mismatches)).toEqual([0, 0]);
    const cells = describeBdv(h5).h5.datasets['t00000/s00/0/cells']!;
    expect(cells.compression).toBe('lzf');
  });
});
