import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStacks, PYTHON, tempDir } from '../../../test/support/oracle.js';
import { execFileSync } from 'node:child_process';
import type { SlabBufferSource } from '@bdv-cluster/bdv';
import { openStackFile, StackError, type StackReader } from '../src/index.js';

const dir = tempDir('bdv-stacks-');
const p = (name: string) => join(dir.path, name);
afterAll(() => dir.remove());

/** The stack as numpy sees it, flattened to uint16 in C order (the independent reference). */
function numpyValues(path: string, loader: string): Uint16Array {
  const out = p(`${Math.random()}.u2`);
  execFileSync(PYTHON, [
    '-c',
    `import numpy as np, sys\n${loader}\nnp.ascontiguousarray(a.astype(np.uint16)).astype('<u2').tofile(sys.argv[2])`,
    path,
    out,
  ]);
  return new Uint16Array(new Uint8Array(readFileSync(out)).buffer);
}

async function until(done: () => boolean): Promise<void> {
  for (const end = Date.now() + 10_000; !done(); await new Promise((resolve) => setTimeout(resolve, 2)))
    if (Date.now() > end) throw new Error('timed out');
}

async function readAll(reader: StackReader, depth: number): Promise<Uint16Array> {
  const [nz, ny, nx] = reader.shapeZyx;
  const all = new Uint16Array(nz * ny * nx);
  let offset = 0;
  for await (const slab of reader.slabs(depth)) {
    all.set(slab, offset);
    offset += slab.length;
  }
  expect(offset).toBe(all.length);
  await reader.close();
  return all;
}

beforeAll(() => {
  makeStacks(dir.path, [
    { path: p('v1.npy'), shape: [7, 9, 11], seed: 1 },
    { path: p('v2.npy'), shape: [5, 4, 3], seed: 2, npy_version: [2, 0] },
    { path: p('v3.npy'), shape: [5, 4, 3], seed: 3, npy_version: [3, 0] },
    { path: p('big.npy'), shape: [6, 5, 4], seed: 4, dtype: '>u2' },
    { path: p('u8.npy'), shape: [3, 4, 5], seed: 5, dtype: '|u1' },
    { path: p('f32.npy'), shape: [3, 4, 5], seed: 6, dtype: '<f4' },
    { path: p('i16.npy'), shape: [3, 4, 5], seed: 6, dtype: '<i2' },
    { path: p('fortran.npy'), shape: [3, 4, 5], seed: 7, fortran: true },
    { path: p('plane.npy'), shape: [4, 5], seed: 8 },
    { path: p('stack.raw'), shape: [4, 6, 8], seed: 9, format: 'raw' },
    { path: p('stack-be.raw'), shape: [4, 6, 8], seed: 10, format: 'raw', dtype: '>u2' },
    { path: p('stack.tif'), shape: [6, 10, 12], seed: 11, format: 'tiff' },
    { path: p('deflate.tif'), shape: [5, 33, 17], seed: 12, format: 'tiff', compression: 'zlib' },
  ]);
});

describe('stack readers', () => {
  it.each(['v1', 'v2', 'v3', 'big'])(
    'reads %s.npy exactly as numpy does, in any slab depth',
    async (name) => {
      const want = numpyValues(p(`${name}.npy`), 'a = np.load(sys.argv[1])');
      for (const depth of [1, 2, 4, 100]) {
        expect(await readAll(await openStackFile(p(`${name}.npy`)), depth)).toEqual(want);
      }
    },
  );

  it('reads .npy in place into the writer heap, also while the heap grows under a read in flight', async () => {
    const { writerSlabBuffers } = await import('@bdv-cluster/bdv');
    for (const [name, depth, grows] of [
      ['v1', 1, true],
      ['v1', 4, false],
      ['big', 2, true],
      ['big', 100, false],
    ] as const) {
      const want = numpyValues(p(`${name}.npy`), 'a = np.load(sys.argv[1])');
      const reader = await openStackFile(p(`${name}.npy`));
      const all = new Uint16Array(want.length);
      let offset = 0;
      let moved = false;
      for await (const slab of reader.slabs(depth, writerSlabBuffers)) {
        all.set(slab, offset);
        offset += slab.length;
        if (grows && offset === slab.length) {
          // A buffer as large as the whole heap cannot come from free space: the heap grows,
          // replacing the buffer under every older view (a private heap's is detached, a shared
          // one's stays as long as it was), while the next slab's read is in flight into it.
          const probe = await writerSlabBuffers(8);
          const big = await writerSlabBuffers(probe.view().buffer.byteLength);
          moved = slab.buffer !== big.view().buffer;
          probe.release();
          big.release();
        }
      }
      await reader.close();
      expect(all, `${name} depth ${depth}`).toEqual(want);
      if (grows) expect(moved, 'the slabs are views of the heap, which grew').toBe(true);
    }
  });

  it('maps a local .npy into the writer heap where it can, and nothing of it stays mapped after', async () => {
    const { writerSlabBuffers } = await import('@bdv-cluster/bdv');
    const mappedNow = (path: string) => readFileSync('/proc/self/maps', 'utf8').includes(path);
    // Slabs of 4 planes of 1024 x 512: 4 MiB, the smallest that are mapped (MAP_MIN_BYTES).
    makeStacks(dir.path, [{ path: p('wide.npy'), shape: [10, 1024, 512], seed: 13 }]);
    const want = numpyValues(p('wide.npy'), 'a = np.load(sys.argv[1])');
    const reader = await openStackFile(p('wide.npy'));
    const all = new Uint16Array(want.length);
    let offset = 0;
    let seenMapped = false;
    for await (const slab of reader.slabs(4, writerSlabBuffers)) {
      seenMapped ||= mappedNow(p('wide.npy'));
      all.set(slab, offset);
      offset += slab.length;
    }
    await reader.close();
    // Compared as bytes: toEqual walks 5 M elements one by one (~20 s).
    expect(Buffer.from(all.buffer).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(
      true,
    );
    // Where Linux and the memory binding allow it (docs/adr/024); read otherwise, same pixels.
    const probe = await writerSlabBuffers(8);
    if (probe.mapFile) expect(seenMapped).toBe(true);
    probe.release();
    expect(mappedNow(p('wide.npy'))).toBe(false);

    // Shrunk after its header was read: the mapped bytes are refused and the read says where it ends.
    const shrinking = await openStackFile(p('wide.npy'));
    const size = readFileSync(p('wide.npy')).length;
    // Three planes gone: slab 1 (planes 4-7, mapped) now runs past the end of the file.
    execFileSync('truncate', ['-s', String(size - 3 * 1024 * 512 * 2), p('wide.npy')]);
    const failure = (async () => {
      for await (const slab of shrinking.slabs(4, writerSlabBuffers)) void slab;
    })();
    await expect(failure).rejects.toMatchObject({ code: 'TRUNCATED' });
    await shrinking.close();
    expect(mappedNow(p('wide.npy'))).toBe(false);
  });

  const PLANE_BYTES = 1024 * 512 * 2;
  const CUT_SIZE = 128 + 12 * PLANE_BYTES;
  it.each([
    [
      'loses its last plane',
      (path: string) => execFileSync('truncate', ['-s', String(128 + 11 * PLANE_BYTES), path]),
      'TRUNCATED',
      `shrank while it was being converted (${128 + 11 * PLANE_BYTES} of ${CUT_SIZE} bytes left; planes 8-11 read as zeros)`,
    ],
    [
      // Inside the file's last page: Linux zeroes that page's tail in place, no SIGBUS.
      'loses its last 2 bytes',
      (path: string) => execFileSync('truncate', ['-s', String(CUT_SIZE - 2), path]),
      'TRUNCATED',
      `shrank while it was being converted (${CUT_SIZE - 2} of ${CUT_SIZE} bytes left)`,
    ],
    [
      'is written to in place',
      (path: string) => {
        const fd = openSync(path, 'r+');
        writeSync(fd, Buffer.alloc(4096, 7), 0, 4096, 128 + 10 * PLANE_BYTES);
        closeSync(fd);
      },
      'CHANGED',
      'was written to (or touched) while it was being converted: its modification time changed',
    ],
  ])(
    'fails the view, and this process lives, where a mapped input %s while its last slab is used',
    async (_label, change, code, why) => {
      const { writerSlabBuffers } = await import('@bdv-cluster/bdv');
      const probe = await writerSlabBuffers(8);
      const maps = probe.mapFile !== undefined;
      probe.release();
      if (!maps) return; // read, not mapped (no binding): a read finds the end (test above)
      const path = p(`cut-${code}-${why.length}.npy`);
      makeStacks(dir.path, [{ path, shape: [12, 1024, 512], seed: 18 }]);
      const reader = await openStackFile(path);
      let seen = 0;
      const failure = (async () => {
        for await (const slab of reader.slabs(4, writerSlabBuffers)) {
          // The last slab (planes 8-11) is mapped and populated; then the input changes, as a
          // user's copy or a sync job rewriting it would, while a writer pushes the slab through.
          // Nothing after this slab would notice: what it read would be kept as pixels.
          if (seen === 2) change(path);
          let sum = 0;
          for (let i = 0; i < slab.length; i += 2048) sum += slab[i]!; // the writer touching every page
          void sum;
          seen++;
        }
      })();
      await expect(failure).rejects.toThrow(`${path}: ${why}; the view is refused`);
      await expect(failure).rejects.toMatchObject({ code, file: path });
      expect(seen).toBe(3); // every slab was handed out: the refusal comes once the last one is used
      await reader.close();
      expect(readFileSync('/proc/self/maps', 'utf8').includes(path)).toBe(false);
    },
  );

  it('holds one large mapped slab in memory at a time, the next one only in the page cache', async () => {
    const { writerSlabBuffers } = await import('@bdv-cluster/bdv');
    const probe = await writerSlabBuffers(8);
    const maps = probe.mapFile !== undefined;
    probe.release();
    if (!maps) return; // read, not mapped (no binding): nothing of this applies
    // 64 MiB slabs (POPULATE_WHEN_USED_BYTES): 4 planes of 4096 x 2048, 3 slabs.
    makeStacks(dir.path, [{ path: p('large.npy'), shape: [12, 4096, 2048], seed: 17 }]);
    const want = new Uint16Array(new Uint8Array(readFileSync(p('large.npy'))).buffer, 128);
    const mappedMiB = () =>
      Number(/RssFile:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
    const before = mappedMiB();
    const reader = await openStackFile(p('large.npy'));
    let offset = 0;
    const held: number[] = [];
    for await (const slab of reader.slabs(4, writerSlabBuffers)) {
      // As long as a writer takes over a slab: a read-ahead populating the next slab has ended.
      await new Promise((resolve) => setTimeout(resolve, 300));
      held.push(mappedMiB() - before);
      expect(
        Buffer.compare(
          Buffer.from(slab.buffer, slab.byteOffset, slab.byteLength),
          Buffer.from(want.buffer, want.byteOffset + offset * 2, slab.byteLength),
        ),
      ).toBe(0);
      offset += slab.length;
    }
    await reader.close();
    expect(offset).toBe(want.length);
    // The slab being used is mapped in (64 MiB); the one after it is not yet, the one before no longer.
    for (const mib of held) {
      expect(mib).toBeGreaterThan(60);
      expect(mib).toBeLessThan(100);
    }
    expect(mappedMiB() - before).toBeLessThan(8);
  });

  it('starts the first in-place read when the slabs are asked for, and close() gives back buffers never read', async () => {
    const { writerSlabBuffers } = await import('@bdv-cluster/bdv');
    let taken = 0;
    let released = 0;
    const counted: SlabBufferSource = async (bytes) => {
      const buffer = await writerSlabBuffers(bytes);
      taken++;
      return { ...buffer, release: () => (released++, buffer.release()) };
    };
    const want = numpyValues(p('big.npy'), 'a = np.load(sys.argv[1])');
    // Nobody iterates (a view refused before its first slab): the buffers come back at close.
    const refused = await openStackFile(p('big.npy'));
    refused.slabs(2, counted);
    await until(() => taken === 2);
    await refused.close();
    expect(released).toBe(2);
    // The writer's setup grows the heap while slab 0 is read ahead: the slabs are still right.
    const reader = await openStackFile(p('big.npy'));
    const slabs = reader.slabs(2, counted);
    await until(() => taken === 4);
    const probe = await writerSlabBuffers(8);
    const big = await writerSlabBuffers(probe.view().buffer.byteLength);
    probe.release();
    big.release();
    const all = new Uint16Array(want.length);
    let offset = 0;
    for await (const slab of slabs) {
      all.set(slab, offset);
      offset += slab.length;
    }
    await reader.close();
    expect(all).toEqual(want);
    expect(released).toBe(4);
  });

  it('widens uint8 only when asked', async () => {
    await expect(openStackFile(p('u8.npy'))).rejects.toThrow(/uint8.*--dtype uint8/);
    const reader = await openStackFile(p('u8.npy'), { allowUint8: true });
    expect(await readAll(reader, 2)).toEqual(numpyValues(p('u8.npy'), 'a = np.load(sys.argv[1])'));
  });

  it.each([
    ['f32.npy', /dtype '<f4' is not uint16/],
    ['i16.npy', /dtype '<i2' is not uint16/],
    ['fortran.npy', /Fortran order.*ascontiguousarray/],
    ['plane.npy', /2 dimensions.*3D/],
  ])('refuses %s with a reason naming the file', async (name, message) => {
    const error = await openStackFile(p(name)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect((error as StackError).message).toMatch(message);
    expect((error as StackError).message).toContain(name);
  });

  it('checks a declared shape and dtype, a truncated body and a non-npy file', async () => {
    await expect(openStackFile(p('v1.npy'), { shapeZyx: [7, 9, 12] })).rejects.toThrow(
      /\(7, 9, 11\), expected \(7, 9, 12\)/,
    );
    const truncated = p('truncated.npy');
    writeFileSync(truncated, readFileSync(p('v1.npy')).subarray(0, 500));
    await expect(openStackFile(truncated)).rejects.toThrow(/truncated\.npy: has 500 bytes, expected 1514/);
    writeFileSync(p('junk.npy'), 'not a numpy file at all');
    await expect(openStackFile(p('junk.npy'))).rejects.toThrow(/junk\.npy: not a valid \.npy file/);
    await expect(openStackFile(p('absent.npy'))).rejects.toThrow(/absent\.npy: no such file/);
  });

  it('reads raw little- and big-endian with a given shape, and checks the size', async () => {
    const le = numpyValues(p('stack.raw'), "a = np.fromfile(sys.argv[1], dtype='<u2')");
    expect(await readAll(await openStackFile(p('stack.raw'), { shapeZyx: [4, 6, 8] }), 3)).toEqual(le);
    const be = numpyValues(p('stack-be.raw'), "a = np.fromfile(sys.argv[1], dtype='>u2')");
    expect(
      await readAll(await openStackFile(p('stack-be.raw'), { shapeZyx: [4, 6, 8], byteOrder: 'big' }), 3),
    ).toEqual(be);
    await expect(openStackFile(p('stack.raw'), { shapeZyx: [4, 6, 9] })).rejects.toThrow(
      /has 384 bytes, expected 432/,
    );
    await expect(openStackFile(p('stack.raw'))).rejects.toThrow(/needs shapeZyx/);
  });

  it.each(['stack.tif', 'deflate.tif'])('reads multi-page 16-bit %s page by page', async (name) => {
    const want = numpyValues(p(name), 'import tifffile\na = tifffile.imread(sys.argv[1])');
    const reader = await openStackFile(p(name));
    expect(reader.format).toBe('tiff');
    expect(await readAll(reader, 4)).toEqual(want);
  });

  it('refuses an unknown extension without a format', async () => {
    writeFileSync(p('x.dat'), 'abc');
    await expect(openStackFile(p('x.dat'))).rejects.toThrow(/x\.dat: cannot tell the format/);
  });
});

describe('npy writer', () => {
  it('writes files numpy loads back equal', async () => {
    const { writeNpy } = await import('../src/index.js');
    const data = Uint16Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 977) % 65536);
    await writeNpy(p('written.npy'), [3, 4, 5], [data.subarray(0, 20), data.subarray(20)]);
    expect(
      numpyValues(
        p('written.npy'),
        'a = np.load(sys.argv[1]); assert a.shape == (3, 4, 5) and a.dtype == np.uint16',
      ),
    ).toEqual(data);
  });
});
