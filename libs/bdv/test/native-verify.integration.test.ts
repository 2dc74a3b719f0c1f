import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PYTHON, tempDir } from '../../../test/support/oracle.js';
import { onTmpfs, residentBytes } from '../../../test/support/page-cache.js';
import { BdvWriter, verifyDataset, type CompressionName, type VerifyReport } from '../src/index.js';
import type { Zyx } from '../src/model/pyramid-spec.js';
import { BdvH5File } from '../src/h5/bdv-h5-file.js';
import { readChunkIndex, type StoredChunk } from '../src/verify/chunk-index.js';
import { checksumOfLevel, checksumOfLevelFromFile } from '../src/verify/level-reader.js';
import { checksumOfStoredLevel } from '../src/verify/native-level-reader.js';

const dir = tempDir('bdv-native-verify-');
afterAll(() => dir.remove());

// Edges on every axis (9 planes, 300 rows, 517 columns against 4x64x64 blocks) and more chunks
// per level than one B-tree node holds (3 x 5 x 9 = 135 at level 0), so the index has inner nodes.
const SHAPE: [number, number, number] = [9, 300, 517];
const BLOCK: [number, number, number] = [4, 64, 64];

async function writeDataset(name: string, compression: CompressionName): Promise<string> {
  const writer = await BdvWriter.create(join(dir.path, `${name}.h5`), {
    setup: { tiles: 2 },
    compression,
    blockSizeZyx: [BLOCK],
    subsamplingZyx: [
      [1, 1, 1],
      [2, 2, 2],
    ],
  });
  for (const tile of [0, 1]) {
    const data = new Uint16Array(SHAPE[0] * SHAPE[1] * SHAPE[2]).map((_, i) => (i * (tile + 7)) % 4093);
    await writer.appendView({ shapeZyx: SHAPE, data }, { tile });
  }
  await writer.writeXml();
  await writer.close();
  return join(dir.path, `${name}.h5`);
}

/**
 * verifyDataset run on a worker thread (the built library, as the CLI's and finalizer's threads
 * run it), where chunks inflate by libdeflate, or by Node's zlib with `engine` 'zlib'.
 */
function verifyOnAThread(xml: string, engine: 'libdeflate' | 'zlib' = 'libdeflate'): Promise<VerifyReport> {
  const library = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href;
  const code = `import { parentPort, workerData } from 'node:worker_threads';
    const { verifyDataset } = await import(${JSON.stringify(library)});
    parentPort.postMessage(await verifyDataset(workerData));`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), {
    workerData: xml,
    env: { ...process.env, BDV_DEFLATE: engine === 'zlib' ? 'zlib' : '' },
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (report: VerifyReport) => void worker.terminate().then(() => resolve(report)));
    worker.once('error', reject);
  });
}

/**
 * The reports of every inflater verification uses: here (the main thread: zlib on the libuv pool)
 * and on a worker thread (inflate there, by libdeflate, then by zlib).
 */
async function verifiedByEveryInflater(h5: string): Promise<VerifyReport[]> {
  const xml = h5.replace(/\.h5$/, '.xml');
  return [await verifyDataset(xml), await verifyOnAThread(xml), await verifyOnAThread(xml, 'zlib')];
}

/** Where, in the file's bytes, the B-tree entry of `chunk` starts (found by its address, after its key). */
function bTreeEntryOf(bytes: Buffer, chunk: StoredChunk): number {
  const address = Buffer.alloc(8);
  address.writeBigUInt64LE(BigInt(chunk.address));
  const entry = bytes.indexOf(address) - 40;
  expect(bytes.readUInt32LE(entry)).toBe(chunk.bytes);
  return entry;
}

/** Our reader's index of a level, with no bound on its rows. */
function indexOf(fd: number, storage: NonNullable<ReturnType<BdvH5File['cellsStorage']>>) {
  const { objectAddress, shapeZyx, chunkZyx } = storage;
  return readChunkIndex(fd, objectAddress, { shapeZyx, chunkZyx, maxRowBytes: 1 << 30 })!;
}

/** The `n`th chunk our index reader finds for one level of setup `setupId` at time 0. */
async function storedChunk(h5: string, setupId: number, level: number, n: number): Promise<StoredChunk> {
  const file = await BdvH5File.openForReading(h5);
  const fd = openSync(h5, 'r');
  try {
    const storage = file.cellsStorage(0, setupId, level)!;
    return indexOf(fd, storage).chunks[n]!;
  } finally {
    closeSync(fd);
    file.close();
  }
}

/** h5py's list of one dataset's chunks: offset, filter mask, byte offset, size. */
function h5pyChunks(h5: string, path: string): number[][] {
  const script = [
    'import h5py, json, sys',
    'd = h5py.File(sys.argv[1], "r")[sys.argv[2]]',
    'out = []',
    'for i in range(d.id.get_num_chunks()):',
    '    c = d.id.get_chunk_info(i)',
    '    out.append([*c.chunk_offset, c.filter_mask, c.byte_offset, c.size])',
    'print(json.dumps(sorted(out)))',
  ].join('\n');
  return JSON.parse(execFileSync(PYTHON, ['-c', script, h5, path]).toString()) as number[][];
}

describe('verification from the file bytes (our chunk index reader + Node zlib)', () => {
  for (const compression of ['none', 'gzip'] as const) {
    it(`reads the chunks h5py lists and sums every level as HDF5 reads it (${compression})`, async () => {
      const h5 = await writeDataset(`d-${compression}`, compression);
      const file = await BdvH5File.openForReading(h5);
      const fd = openSync(h5, 'r');
      try {
        for (const setupId of [0, 1])
          for (const level of [0, 1]) {
            const storage = file.cellsStorage(0, setupId, level)!;
            expect(storage.filters).toEqual(compression === 'gzip' ? [1] : []);
            const index = indexOf(fd, storage);
            expect(index.chunkZyx).toEqual(BLOCK);
            const ours = index.chunks
              .map((c) => [...c.offsetZyx, c.filterMask, c.address, c.bytes])
              .sort((a, b) => a.join().localeCompare(b.join()));
            const path = `t00000/s${String(setupId).padStart(2, '0')}/${level}/cells`;
            const theirs = h5pyChunks(h5, path).sort((a, b) => a.join().localeCompare(b.join()));
            expect(ours).toEqual(theirs);
            expect(ours.length).toBe(level === 0 ? 135 : 2 * 3 * 5);

            // Our reader on its own (verification uses it for gzip cells; raw chunks are those
            // whose filter was skipped), and what verification uses, against HDF5's reading.
            const throughHdf5 = checksumOfLevel(file, 0, setupId, level);
            const stored = { level, shapeZyx: storage.shapeZyx, index, filters: storage.filters };
            expect(await checksumOfStoredLevel(fd, stored)).toEqual(throughHdf5);
            // In bands of one and of two chunk rows (the planes' segments joined by CRC combine),
            // the last band shorter, as in whole planes.
            const rowBytes = BLOCK[0] * BLOCK[1] * SHAPE[2] * 2;
            for (const bandBytes of [1, 2 * rowBytes])
              expect(await checksumOfStoredLevel(fd, stored, bandBytes), `band ${bandBytes}`).toEqual(
                throughHdf5,
              );
            expect(await checksumOfLevelFromFile(file, fd, 0, setupId, level)).toEqual(throughHdf5);
          }
      } finally {
        closeSync(fd);
        file.close();
      }
      expect((await verifyDataset(h5.replace(/\.h5$/, '.xml'))).ok).toBe(true);
    });
  }

  it('reads levels whose chunk rows fit its bound, however large their planes; HDF5 the others', async () => {
    const h5 = await writeDataset('bounds', 'none');
    const file = await BdvH5File.openForReading(h5);
    const fd = openSync(h5, 'r');
    try {
      const { objectAddress, shapeZyx, chunkZyx } = file.cellsStorage(0, 0, 0)!;
      // a row of chunks: 4 planes x 64 rows x 9 chunks of 64 columns (the last one padded)
      const row = 4 * 64 * 9 * 64 * 2;
      const plane = 4 * SHAPE[1] * SHAPE[2] * 2;
      const at = (maxRowBytes: number) =>
        readChunkIndex(fd, objectAddress, { shapeZyx, chunkZyx, maxRowBytes });
      expect(at(row)?.chunks).toHaveLength(135);
      expect(at(row - 1)).toBeUndefined();
      expect(plane).toBeGreaterThan(row); // a one-chunk-deep slab of whole planes was the bound before
      expect((await verifyDataset(h5.replace(/\.h5$/, '.xml'))).ok).toBe(true);
    } finally {
      closeSync(fd);
      file.close();
    }
  });

  it('fails a level whose index, handed to it, misses a chunk, has one out of its band, too large or too many', async () => {
    const h5 = await writeDataset('bands', 'gzip');
    const file = await BdvH5File.openForReading(h5);
    const fd = openSync(h5, 'r');
    try {
      const storage = file.cellsStorage(0, 0, 0)!;
      const index = indexOf(fd, storage);
      const level = (chunks: StoredChunk[]) => ({
        level: 0,
        shapeZyx: storage.shapeZyx,
        index: { chunkZyx: index.chunkZyx, chunks },
        filters: storage.filters,
      });
      const rowBytes = BLOCK[0] * BLOCK[1] * SHAPE[2] * 2;
      // the 12th chunk (0,64,128) gone: the second band's third place holds the next one
      const missing = index.chunks.filter((_, i) => i !== 11);
      await expect(checksumOfStoredLevel(fd, level(missing), rowBytes)).rejects.toThrow(
        /^planes 0-3, rows 64-127: chunk \(0,64,192\) is not theirs/,
      );
      // the last chunk gone: the last band is short of one
      await expect(checksumOfStoredLevel(fd, level(index.chunks.slice(0, -1)))).rejects.toThrow(
        /^planes 8-8, rows 0-299: 44 chunks indexed, expected 45/,
      );
      // a chunk claiming more than its cells could deflate to (its bytes are not read: refused first)
      const greedy = index.chunks.map((c, i) => (i === 7 ? { ...c, bytes: 3 * 4 * 64 * 64 * 2 } : c));
      await expect(checksumOfStoredLevel(fd, level(greedy))).rejects.toThrow(
        /^chunk \(0,0,448\) claims 98304 bytes for 32768 of cells/,
      );
      // one chunk too many: nothing may be left unread
      const extra = { ...index.chunks.at(-1)!, offsetZyx: [12, 0, 0] as [number, number, number] };
      await expect(checksumOfStoredLevel(fd, level([...index.chunks, extra]))).rejects.toThrow(
        /^1 chunks indexed past the level's last plane/,
      );
    } finally {
      closeSync(fd);
      file.close();
    }
  });

  it('verifies levels smaller than one chunk, holding whole chunks only as many as they have', async () => {
    // Bands were sized by unpadded rows: a 1x1x1 level in 16³ blocks asked for 40 GiB and failed.
    const cases: { name: string; shape: Zyx; block: Zyx; levels: Zyx[] }[] = [
      { name: 'speck', shape: [1, 1, 1], block: [16, 16, 16], levels: [[1, 1, 1]] },
      {
        name: 'thin',
        shape: [1, 512, 512],
        block: [64, 256, 256],
        levels: [
          [1, 1, 1],
          [1, 4, 4],
          [1, 64, 64],
        ],
      },
    ];
    for (const { name, shape, block, levels } of cases) {
      const h5 = join(dir.path, `${name}.h5`);
      const writer = await BdvWriter.create(h5, {
        compression: 'gzip',
        blockSizeZyx: [block],
        subsamplingZyx: levels,
      });
      const data = new Uint16Array(shape[0] * shape[1] * shape[2]).map((_, i) => (i * 31) % 65521);
      await writer.appendView({ shapeZyx: shape, data }, {});
      await writer.writeXml();
      await writer.close();
      const before = process.memoryUsage().arrayBuffers;
      const report = await verifyDataset(h5.replace(/\.h5$/, '.xml'));
      expect(report.ok, JSON.stringify(report.views)).toBe(true);
      // whole chunks of 8 KiB and 8 MiB, and zlib's outputs yet to be collected; sized by unpadded
      // rows, 'thin' held 32 rows of chunks (576 MiB) at once
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(256 * 1024 * 1024);
    }
  });

  it('lets the page cache go of the chunks it verified, unless BDV_DROP_PAGES=off', async (ctx) => {
    if (onTmpfs(dir.path)) ctx.skip();
    for (const keep of [false, true]) {
      const h5 = await writeDataset(`cached-${keep}`, 'none');
      // a small file is written without the flush thread: every page of it is cached (and clean:
      // the writer's commit fsynced it)
      const size = readFileSync(h5).length;
      expect(residentBytes(h5)).toBeGreaterThanOrEqual(size); // whole pages
      vi.stubEnv('BDV_DROP_PAGES', keep ? 'off' : '');
      try {
        expect((await verifyDataset(h5.replace(/\.h5$/, '.xml'))).ok).toBe(true);
      } finally {
        vi.unstubAllEnvs();
      }
      // at most HDF5's metadata stays, read to find the chunks after the last drop
      if (keep) expect(residentBytes(h5)).toBeGreaterThanOrEqual(size);
      else expect(residentBytes(h5)).toBeLessThan(size / 4);
    }
  });

  it('names the level whose chunk no longer inflates, and passes the other view', async () => {
    const h5 = await writeDataset('broken', 'gzip');
    const chunk = await storedChunk(h5, 1, 0, 40);
    const bytes = readFileSync(h5);
    bytes.fill(0x55, chunk.address + 2, chunk.address + 40); // past zlib's header: the stream breaks
    writeFileSync(h5, bytes);

    for (const report of await verifiedByEveryInflater(h5)) {
      expect(report.ok).toBe(false);
      const [first, second] = report.views;
      expect(first!.problems).toEqual([]);
      expect(second!.problems).toHaveLength(1);
      expect(second!.problems[0]).toMatch(
        new RegExp(`^level 0: cannot be read: chunk \\(${chunk.offsetZyx.join(',')}\\) does not inflate`),
      );
    }
  });

  // A leaf entry of the B-tree: the chunk's key (size u32, filter mask u32, 4 offsets u64), then
  // its address; found by that address, just after the key.
  const entryBytes = 48;
  const hostileIndexes: [string, (bytes: Buffer, entry: number) => void, RegExp][] = [
    [
      'a chunk claiming 4 GiB',
      (bytes, entry) => bytes.writeUInt32LE(0xfffffff0, entry),
      /: its 4294967280 bytes at byte \d+ lie outside the file/,
    ],
    [
      // its bytes then run into the next chunk's
      'a chunk claiming 3 chunks of bytes',
      (bytes, entry) => bytes.writeUInt32LE(3 * 4 * 64 * 64 * 2, entry),
      /chunk \(\d+,\d+,\d+\) at byte \d+ overlaps chunk \(\d+,\d+,\d+\) at byte \d+ \(\+98304\)/,
    ],
    [
      // the same bytes would pass as two chunks, and a CRC of repeated cells cannot tell
      "a chunk pointing at the next chunk's bytes",
      (bytes, entry) => bytes.copy(bytes, entry + 40, entry + entryBytes + 40, entry + entryBytes + 48),
      /overlaps chunk/,
    ],
    [
      'a chunk at an address past 2^53',
      (bytes, entry) => bytes.writeBigUInt64LE(2n ** 60n, entry + 40),
      /lie outside the file/,
    ],
    [
      // HDF5 finds chunks by key: this one cannot be found, and the next would be summed twice.
      'the next chunk listed twice in place of this one',
      (bytes, entry) => bytes.copy(bytes, entry, entry + entryBytes, entry + 2 * entryBytes),
      /listed twice or out of order/,
    ],
  ];
  for (const compression of ['gzip', 'none'] as const)
    for (const [what, edit, message] of hostileIndexes)
      it(`fails the level, and only it, of an index with ${what} (${compression})`, async () => {
        const n = hostileIndexes.findIndex((h) => h[0] === what);
        const h5 = await writeDataset(`hostile-${compression}-${n}`, compression);
        const chunk = await storedChunk(h5, 0, 1, 3);
        const bytes = readFileSync(h5);
        const entry = bTreeEntryOf(bytes, chunk);
        edit(bytes, entry);
        writeFileSync(h5, bytes);

        const report = await verifyDataset(h5.replace(/\.h5$/, '.xml'));
        expect(report.views[0]!.problems).toHaveLength(1);
        expect(report.views[0]!.problems[0]).toMatch(/^level 1: cannot be read: /);
        expect(report.views[0]!.problems[0]).toMatch(message);
        expect(report.views[1]!.problems).toEqual([]);
      });

  it("verifies gzip cells in chunks smaller than zlib's smallest output piece (1,4,4: 32 bytes)", async () => {
    const writer = await BdvWriter.create(join(dir.path, 'tiny-blocks.h5'), {
      compression: 'gzip',
      blockSizeZyx: [[1, 4, 4]],
    });
    const data = new Uint16Array(3 * 10 * 9).map((_, i) => i * 37);
    await writer.appendView({ shapeZyx: [3, 10, 9], data }, {});
    await writer.writeXml();
    await writer.close();
    const h5 = join(dir.path, 'tiny-blocks.h5');
    const file = await BdvH5File.openForReading(h5);
    const fd = openSync(h5, 'r');
    try {
      const index = indexOf(fd, file.cellsStorage(0, 0, 0)!);
      const stored = { level: 0, shapeZyx: [3, 10, 9] as Zyx, index, filters: [1] };
      expect(await checksumOfStoredLevel(fd, stored)).toEqual(checksumOfLevel(file, 0, 0, 0));
    } finally {
      closeSync(fd);
      file.close();
    }
    expect((await verifyDataset(join(dir.path, 'tiny-blocks.xml'))).ok).toBe(true);
  });

  it('verifies gzip cells on a worker thread as on the main thread (libdeflate and zlib)', async () => {
    const xml = (await writeDataset('threaded', 'gzip')).replace(/\.h5$/, '.xml');
    for (const engine of ['libdeflate', 'zlib'] as const) {
      const report = await verifyOnAThread(xml, engine);
      expect(report.ok, engine).toBe(true);
      expect(report.views, engine).toHaveLength(2);
    }
  });

  it('fails the level whose chunk inflates past a chunk (a zip bomb), by every inflater', async () => {
    const h5 = await writeDataset('bomb', 'gzip');
    const chunk = await storedChunk(h5, 0, 0, 5);
    const bytes = readFileSync(h5);
    const entry = bTreeEntryOf(bytes, chunk);
    // Twice a chunk of zeros deflates to far less than the chunk's stored bytes: it fits in place.
    const bomb = deflateSync(Buffer.alloc(2 * 4 * 64 * 64 * 2));
    expect(bomb.length).toBeLessThan(chunk.bytes);
    bomb.copy(bytes, chunk.address);
    bytes.writeUInt32LE(bomb.length, entry);
    writeFileSync(h5, bytes);

    const reports = await verifiedByEveryInflater(h5);
    for (const report of reports) {
      expect(report.views[0]!.problems).toHaveLength(1);
      expect(report.views[0]!.problems[0]).toMatch(
        new RegExp(`^level 0: cannot be read: chunk \\(${chunk.offsetZyx.join(',')}\\) does not inflate`),
      );
      expect(report.views[1]!.problems).toEqual([]);
    }
    // Each inflater stopped at the chunk's end in its own words: the thread's libdeflate, zlib elsewhere.
    const tails = reports.map((r) => r.views[0]!.problems[0]!.replace(/^.*does not inflate: /, ''));
    expect(tails[0]).toMatch(/larger than 32768 bytes/);
    expect(tails[1]).toBe('the stream inflates to more bytes than expected');
    expect(tails[2]).toMatch(/larger than 32768 bytes/);
  });

  it('reads LZF cells through HDF5, as before', async () => {
    const h5 = await writeDataset('lzf', 'lzf');
    const file = await BdvH5File.openForReading(h5);
    try {
      expect(file.cellsStorage(0, 0, 0)!.filters).toEqual([32000]);
    } finally {
      file.close();
    }
    expect((await verifyDataset(h5.replace(/\.h5$/, '.xml'))).ok).toBe(true);
  });
});
