import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { comparePixels, tempDir } from '../../../test/support/oracle.js';
import { onTmpfs, residentBytes } from '../../../test/support/page-cache.js';
import { BdvWriter, verifyDataset, type Zyx } from '../src/index.js';
import { BdvH5File } from '../src/h5/bdv-h5-file.js';
import { FlushThread, flushThread } from '../src/h5/flush-thread.js';
import { cellsPath } from '../src/h5/hdf5-paths.js';
import { heapPool, HeapSlabWriter } from '../src/h5/heap-slab-writer.js';
import { heapSlabs, until } from './heap-slab-stack.js';

// Slabs that live in the wasm heap reach HDF5 by address. The heap may grow during any HDF5
// call, which replaces the ArrayBuffer under every view of it: the writer must re-make its
// views (input slab, pyramid buffers, checksum) after each call. Here the heap is grown on
// purpose inside HDF5 writes, and the file must still hold exactly the input (h5py reads it).

const dir = tempDir('bdv-heap-');
afterAll(() => dir.remove());

function randomStack(shape: Zyx, seed: number): Uint16Array {
  const a = new Uint16Array(shape[0] * shape[1] * shape[2]);
  let x = seed;
  for (let i = 0; i < a.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    a[i] = x >>> 16;
  }
  return a;
}

describe('slabs in the wasm heap', () => {
  it('are written by address and stay right when HDF5 grows the heap mid-view', async () => {
    const { module } = await heapPool();
    const original = module.set_dataset_data.bind(module);
    let writes = 0;
    let grown = 0;
    let heapSeen: ArrayBufferLike = module.HEAPU8.buffer;
    // Grow the heap inside the first writes of every level: a malloc larger than the whole heap
    // cannot be served from free space. It replaces the buffer under every older view (ADR 019).
    module.set_dataset_data = (...args: Parameters<typeof original>) => {
      const status = original(...args);
      if (writes++ % 3 === 0) {
        const before = module.HEAPU8.length;
        module._free(module._malloc(Math.min(before, 256 << 20)));
        if (module.HEAPU8.buffer !== heapSeen) grown++;
        heapSeen = module.HEAPU8.buffer;
      }
      return status;
    };
    try {
      const h5 = join(dir.path, 'heap.h5');
      const subsampling = [
        [1, 1, 1],
        [1, 2, 2],
        [2, 4, 4],
      ];
      const writer = await BdvWriter.create(h5, {
        setup: { tiles: 2 },
        subsamplingZyx: subsampling,
        blockSizeZyx: [
          [4, 8, 8],
          [2, 8, 8],
          [1, 4, 4],
        ],
        slabBytes: 4096,
      });
      const views = [];
      for (const tile of [0, 1]) {
        const shape: Zyx = [13, 20, 24];
        const stack = randomStack(shape, 5 + tile);
        const record = await writer.appendView(heapSlabs(stack, shape, 4), { tile });
        const raw = join(dir.path, `t${tile}.raw`);
        writeFileSync(raw, Buffer.from(stack.buffer));
        views.push({ time: 0, setup: record.setupId, raw: { path: raw, shape, dtype: '<u2' } });
      }
      await writer.writeXml();
      await writer.close();

      expect(grown).toBeGreaterThan(3);
      for (const view of comparePixels({ h5, subsampling_zyx: subsampling, views })) {
        for (const level of view.levels) {
          expect(level.shape).toEqual(level.expected_shape);
          expect(level.mismatches, `setup ${view.setup} level ${level.level}`).toBe(0);
        }
      }
      // The checksums were taken from live views too: they match what is in the file.
      const report = await verifyDataset(writer.xmlPath);
      expect(report.ok, JSON.stringify(report)).toBe(true);
    } finally {
      module.set_dataset_data = original;
    }
  });

  it('drops what a flushed file grew by from the page cache, and keeps it under BDV_DROP_PAGES=off', async (ctx) => {
    // tmpfs keeps every page whatever it is told (its pages are the file): nothing to see there
    if (onTmpfs(dir.path)) ctx.skip();
    const bytes = 8 << 20;
    const content = Buffer.alloc(bytes, 0x5a);
    const more = Buffer.alloc(bytes, 0xa5);
    for (const keep of [false, true]) {
      const path = join(dir.path, `cached-${keep}.bin`);
      writeFileSync(path, content);
      expect(residentBytes(path)).toBe(bytes);
      vi.stubEnv('BDV_DROP_PAGES', keep ? 'off' : '');
      const flushes = new FlushThread(); // reads the switch
      vi.unstubAllEnvs();
      const flush = async (n: number) => {
        expect(flushes.request(path)).toBe(true);
        await until(() => flushes.done === n, 10_000);
      };
      await flush(1);
      expect(flushes.dropped).toBe(keep ? 0 : 1);
      if (keep) expect(residentBytes(path)).toBe(bytes);
      else expect(residentBytes(path)).toBeLessThan(bytes / 8);
      // a flush with nothing written since has nothing new to drop
      await flush(2);
      expect(flushes.dropped).toBe(keep ? 0 : 1);
      // what the file grows by goes at the next flush
      appendFileSync(path, more);
      await flush(3);
      expect(flushes.dropped).toBe(keep ? 0 : 2);
      if (keep) expect(residentBytes(path)).toBe(2 * bytes);
      else expect(residentBytes(path)).toBeLessThan(bytes / 8);
      // the bytes are the disk's to give back now, all of them
      expect(readFileSync(path).equals(Buffer.concat([content, more]))).toBe(true);
    }
  });

  it('flushes a growing file to disk on the flush thread as it grows, one fdatasync at a time', async () => {
    const path = join(dir.path, 'flush.h5');
    const file = await BdvH5File.create(path);
    file.createCells(0, 0, 0, [8, 16, 16], [2, 16, 16], { name: 'none' });
    const { module } = await heapPool();
    const writer = new HeapSlabWriter(module, path, 1024); // a flush after every 1 KiB
    const flushes = flushThread();
    const before = flushes.done;
    const droppedBefore = flushes.dropped;
    const data = Uint16Array.from({ length: 8 * 16 * 16 }, (_, i) => i);
    for (let z = 0; z < 8; z += 2) {
      writer.write(
        file.fileId,
        cellsPath(0, 0, 0),
        [z, 0, 0],
        [2, 16, 16],
        data.subarray(z * 256, (z + 2) * 256),
      );
      // each write past the threshold found the thread idle and handed it one flush
      await until(() => flushes.done > before + z / 2, 10_000);
    }
    expect(flushes.done - before).toBe(4);
    // one at a time: a request while one runs is dropped (the writer asks again at its next slab).
    // Many back to back, not two: on a loaded machine this thread may be descheduled long enough
    // between two calls for a whole flush to run.
    const accepted = Array.from({ length: 1000 }, () => flushes.request(path)).filter(Boolean).length;
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(1000);
    await until(() => flushes.done === before + 4 + accepted, 10_000);
    // a path that is gone only ends that flush (errors are the commit's fsync's to report)
    expect(flushes.request(join(dir.path, 'gone.h5'))).toBe(true);
    await until(() => flushes.done === before + 5 + accepted, 10_000);
    // by default flushes let the written pages go (docs/adr/027)
    expect(flushes.dropped - droppedBefore).toBeGreaterThan(0);
    writer.release();
    file.close();
    const back = await BdvH5File.openForReading(path);
    expect(Array.from(back.readCells(0, 0, 0, 0, 8))).toEqual(Array.from(data));
    // a slab lent by withCells: the same cells; an error of the borrower is its own, not HDF5's
    back.withCells(0, 0, 0, 2, 4, (cells) =>
      expect(Array.from(cells)).toEqual(Array.from(data.subarray(512, 1024))),
    );
    const bug = new TypeError('the borrower failed');
    expect(() =>
      back.withCells(0, 0, 0, 0, 2, () => {
        throw bug;
      }),
    ).toThrow(bug);
    back.close();
  });
});
