import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import { loadH5 } from '../src/h5/h5wasm-runtime.js';
import { projectView } from '../src/preview/view-projection.js';

// A long-lived reader (the API's previews) meets slabs of every size its files have. Each read
// slab goes back to the heap's allocator, so the wasm heap stays near the largest slab instead
// of keeping a block per size met (a 512 MiB pool made the API heap grow 32 -> 421 MiB over nine
// plane sizes, past the k8s API pod's 512 Mi limit).

const dir = tempDir('bdv-read-heap-');
afterAll(() => dir.remove());

const SIDES = [512, 640, 768, 896, 1024]; // 4-plane slabs of 2, 3.1, 4.5, 6.1 and 8 MiB

describe('reading views of many plane sizes', () => {
  it('keeps the wasm heap near the largest slab', async () => {
    // Written by h5py in another process: this process's heap has met no slab before.
    const files = SIDES.map((n) => join(dir.path, `v${n}.h5`));
    execFileSync('/usr/bin/python3', [
      '-c',
      [
        'import sys, h5py, numpy as np',
        'for path in sys.argv[1:]:',
        '    n = int(path.rsplit("v", 1)[1][:-3])',
        '    with h5py.File(path, "w") as f:',
        '        f.create_dataset("t00000/s00/0/cells", data=(np.arange(4 * n * n) % 4093).astype("<i2").reshape(4, n, n), chunks=(4, 64, 64))',
      ].join('\n'),
      ...files,
    ]);
    const { module } = await loadH5();
    const preview = (h5: string) =>
      projectView({ h5Path: h5, time: 0, setupId: 0, appendable: false }, { maxSize: 2048 });
    expect((await preview(files[0]!)).level).toBe(0);
    const before = module.HEAPU8.length;
    for (const h5 of files.slice(1)) await preview(h5);
    const grownMiB = (module.HEAPU8.length - before) / 2 ** 20;
    // the largest slab is 8 MiB; a block kept per size would add 3.1 + 4.5 + 6.1 + 8 = 21.7 MiB
    expect(grownMiB).toBeLessThan(10);
  });
});
