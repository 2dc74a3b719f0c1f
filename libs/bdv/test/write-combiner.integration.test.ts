import { execFileSync } from 'node:child_process';
import { closeSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { PYTHON, tempDir } from '../../../test/support/oracle.js';
import type { EmscriptenFs } from '../src/h5/emscripten-fs.js';
import { loadH5 } from '../src/h5/h5wasm-runtime.js';
import { JournalHooks } from '../src/h5/rollback-journal.js';
import { COMBINE_BYTES } from '../src/h5/write-combiner.js';
import { BdvWriter, verifyDataset } from '../src/index.js';

// h5wasm's own file layer (the FS HDF5 writes through), with the hooks HDF5 writes under: the
// journal's, and the write combiner over them.
const dir = tempDir('bdv-combine-');
afterAll(() => dir.remove());

async function hookedFs(): Promise<EmscriptenFs> {
  const fs = (await loadH5()).module.FS as unknown as EmscriptenFs;
  JournalHooks.on(fs);
  return fs;
}

const O_RDWR_CREAT = 2 | 64;
const piece = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe('adjacent small writes joined under HDF5 (write-combiner.ts)', () => {
  it('holds small adjacent writes, and the file has them before a read, stat, truncation or close', async () => {
    const fs = await hookedFs();
    const path = join(dir.path, 'joined.bin');
    const stream = fs.open(path, O_RDWR_CREAT, 0o644);
    const a = piece(8192, 1);
    const b = piece(8192, 2);
    expect(fs.write(stream, a, 0, a.length, 0)).toBe(8192);
    expect(fs.write(stream, b, 0, b.length, 8192)).toBe(8192);
    expect(statSync(path).size).toBe(0); // held: nothing reached the file yet
    // a read sees them (written first)
    const back = new Uint8Array(16384);
    expect(fs.read(stream, back, 0, back.length, 0)).toBe(16384);
    expect(Buffer.from(back)).toEqual(Buffer.concat([a, b]));
    // a write elsewhere: what is held goes first, in order
    fs.write(stream, b, 0, 100, 20_000);
    fs.write(stream, a, 0, 100, 4096); // an overwrite inside what was held before
    expect((fs.fstat(stream.fd) as { size: number }).size).toBe(20_100);
    fs.ftruncate(stream.fd, 20_050);
    fs.close(stream);
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(20_050);
    expect(bytes.subarray(0, 4096)).toEqual(Buffer.from(a.subarray(0, 4096)));
    expect(bytes.subarray(4096, 4196)).toEqual(Buffer.from(a.subarray(0, 100)));
    expect(bytes.subarray(4196, 16384)).toEqual(Buffer.concat([a, b]).subarray(4196));
    expect(bytes.subarray(20_000)).toEqual(Buffer.from(b.subarray(0, 50)));
  });

  it('joins at most COMBINE_BYTES, and lets large writes through as they come', async () => {
    const fs = await hookedFs();
    const path = join(dir.path, 'bounded.bin');
    const stream = fs.open(path, O_RDWR_CREAT, 0o644);
    const small = piece(64 * 1024, 3);
    for (let i = 0; i < COMBINE_BYTES / small.length + 1; i++)
      fs.write(stream, small, 0, small.length, i * small.length);
    // the first COMBINE_BYTES went when the next would not fit
    expect(statSync(path).size).toBe(COMBINE_BYTES);
    const large = piece(COMBINE_BYTES / 2, 4);
    fs.write(stream, large, 0, large.length, COMBINE_BYTES + small.length);
    expect(statSync(path).size).toBe(COMBINE_BYTES + small.length + large.length);
    fs.close(stream);
  });

  it('fails the call that finds a held write lost, and every later one; the close still closes', async () => {
    const fs = await hookedFs();
    const path = join(dir.path, 'lost.bin');
    const stream = fs.open(path, O_RDWR_CREAT, 0o644);
    const a = piece(4096, 5);
    fs.write(stream, a, 0, a.length, 0); // held
    closeSync(stream.nfd); // the descriptor goes away underneath: the held write cannot land
    expect(() => fs.write(stream, a, 0, a.length, 100_000)).toThrow(); // not adjacent: flushes, fails
    expect(() => fs.write(stream, a, 0, a.length, 200_000)).toThrow();
    const back = new Uint8Array(10);
    expect(() => fs.read(stream, back, 0, 10, 0)).toThrow();
    expect(() => fs.close(stream)).toThrow();
    expect(fs.getStream(stream.fd)).toBeFalsy(); // closed all the same
    expect(statSync(path).size).toBe(0);
  });

  it('writes a view in 16³ blocks (thousands of 8 KiB chunks) that reads back as written', async () => {
    const h5 = join(dir.path, 'small-blocks.h5');
    const writer = await BdvWriter.create(h5, {
      setup: { tiles: 2 },
      blockSizeZyx: [[16, 16, 16]],
      subsamplingZyx: [
        [1, 1, 1],
        [2, 2, 2],
      ],
    });
    const shape: [number, number, number] = [32, 256, 512];
    const data = new Uint16Array(shape[0] * shape[1] * shape[2]).map((_, i) => (i * 13) % 65_521);
    await writer.appendView({ shapeZyx: shape, data }, { tile: 0 });
    await writer.appendView({ shapeZyx: shape, data: data.map((v) => v ^ 0x5a5a) }, { tile: 1 });
    await writer.writeXml();
    await writer.close();
    expect((await verifyDataset(h5.replace(/\.h5$/, '.xml'))).ok).toBe(true);
    // and h5py reads the same pixels (their CRC-32, level 0 of each tile, as unsigned 16-bit)
    const script = [
      'import h5py, sys, zlib',
      'f = h5py.File(sys.argv[1], "r")',
      'print(*[zlib.crc32(f[f"t00000/s0{s}/0/cells"][()].view("<u2").tobytes()) for s in (0, 1)])',
    ].join('\n');
    const theirs = execFileSync(PYTHON, ['-c', script, h5]).toString().trim().split(' ').map(Number);
    const bytes = (v: Uint16Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    expect(theirs).toEqual([crc32(bytes(data)), crc32(bytes(data.map((v) => v ^ 0x5a5a)))]);
  });
});
