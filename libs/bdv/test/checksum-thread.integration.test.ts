import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import {
  checksumPathFor,
  readChecksumFile,
  verifyDataset,
  warmWritingThreads,
  type Zyx,
} from '../src/index.js';
import { checksumThread, HeapChecksum } from '../src/h5/checksum-thread.js';
import { heapPool } from '../src/h5/heap-slab-writer.js';
import { heapIsShared } from '../src/h5/prepared-h5wasm.js';
import { until, writeTwoLevelView } from './heap-slab-stack.js';

// The build makes HDF5's heap shared (docs/adr/019) so that the level-0 CRC-32 of a big view is
// computed on a thread of its own while HDF5 writes the same slab. The record must still be the
// CRC-32 of the input, in z order, whichever thread folded which slab.

const dir = tempDir('bdv-checksum-thread-');
afterAll(() => dir.remove());

describe('the checksum thread', () => {
  it('takes the level-0 CRC of a 64 MiB view, and the record is the CRC-32 of the input', async () => {
    const { module } = await heapPool();
    expect(heapIsShared(module), 'the build shares the heap (npm run build)').toBe(true);
    const thread = checksumThread();
    expect(thread.posted).toBe(0);
    const shape: Zyx = [64, 512, 1024];
    // Started ahead, as the CLI does once it has read the input's header: a view written before
    // the thread is up checksums its first slabs here, and 64 MiB may be all written by then.
    warmWritingThreads(shape[0] * shape[1] * shape[2] * 2);
    await until(() => thread.ready, 10_000);
    const stack = new Uint16Array(shape[0] * shape[1] * shape[2]);
    randomFillSync(stack);
    const h5 = join(dir.path, 'big.h5');
    const xml = await writeTwoLevelView(h5, stack, shape);

    expect(thread.posted, 'slabs checksummed on the thread').toBeGreaterThan(0);
    const record = readChecksumFile(checksumPathFor(xml));
    const level0 = record.views[0]!.levels.find((l) => l.level === 0)!;
    expect(level0.crc32).toBe(crc32(new Uint8Array(stack.buffer)).toString(16).padStart(8, '0'));
    // Both levels (the second checksummed here or there) read back as recorded.
    const report = await verifyDataset(xml);
    expect(report.ok, JSON.stringify(report)).toBe(true);
  });

  it('folds heap slabs there and other memory here into one running CRC-32, in order', async () => {
    const heap = await heapPool();
    const thread = checksumThread();
    thread.warm();
    await until(() => thread.ready, 10_000);
    const mib = 1 << 20;
    const block = heap.take(3 * mib);
    try {
      randomFillSync(block.u8());
      const whole = crc32(block.u8());
      const pieces = () => [
        block.u16(mib / 2),
        Uint16Array.from(new Uint16Array(heap.module.HEAPU8.buffer, block.pointer + mib, mib / 2)),
        new Uint16Array(heap.module.HEAPU8.buffer, block.pointer + 2 * mib, mib / 2),
      ];
      const before = thread.posted;
      const there = new HeapChecksum(thread);
      for (const piece of pieces()) there.add(piece);
      expect(thread.posted - before, 'the two heap slabs went to the thread').toBe(2);
      expect(there.hex).toBe(whole.toString(16).padStart(8, '0'));

      const here = new HeapChecksum(undefined);
      for (const piece of pieces()) here.add(piece);
      expect(thread.posted - before).toBe(2);
      expect(here.hex).toBe(there.hex);
    } finally {
      block.release();
    }
  });
});
