import { resolveFormat } from '@bdv-cluster/bdv';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import { zerosNpy } from '../../../test/support/sparse-npy.js';
import { heapPool } from '../../bdv/src/h5/heap-slab-writer.js';
import { runViewTask, type ViewTask } from '../src/index.js';

// A cluster writer learns a source's shape from its header, after submit (a source whose shape
// the manifest did not declare). Blocks too deep for that shape are refused there, before the
// reader takes its slab buffers or reads a byte: preferredSlabDepth, which sizes them, refuses.

const dir = tempDir('bdv-task-bounds-');
afterAll(() => dir.remove());

describe('a view task whose blocks are too deep for its source', () => {
  it('is refused naming blockSizeZyx, and writes nothing', async () => {
    // 64 planes of 2048 x 2048 (a sparse file: nothing to read): 64-deep slabs are 512 MiB.
    const shape: [number, number, number] = [64, 2048, 2048];
    const path = zerosNpy(join(dir.path, 'deep.npy'), shape);
    const out = join(dir.path, 'out');
    const task: ViewTask = {
      source: { kind: 'file', uri: `file://${path}`, path },
      read: { format: 'npy' },
      view: { time: 0, tile: 0 },
      h5Path: join(out, 'deep.h5'),
      layout: 'partitioned',
      format: resolveFormat({ blockSizeZyx: [[64, 64, 64]] }),
      owner: 'dataset-1',
    };
    // Two 512 MiB slab buffers would grow this thread's HDF5 heap past 1 GiB.
    const heap = (await heapPool()).module;
    const heapBefore = heap.HEAPU8.length;
    await expect(runViewTask(task)).rejects.toThrow(
      /blockSizeZyx: a 64x2048x2048 \(z,y,x\) stack with these blocks needs 512 MiB of chunk-deep slabs/,
    );
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    expect(heap.HEAPU8.length - heapBefore).toBeLessThan(64 * 2 ** 20);
  });
});
