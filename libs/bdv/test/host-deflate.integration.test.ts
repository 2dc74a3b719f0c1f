import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { PYTHON, tempDir } from '../../../test/support/oracle.js';
import { BdvWriter, verifyDataset } from '../src/index.js';
import { BdvH5File } from '../src/h5/bdv-h5-file.js';
import {
  DEFLATE_ENGINE_NAMES,
  DEFLATE_ENGINES,
  expectDeflateEngineInUse,
  useDeflateEngine,
} from './deflate-engines.js';
import { preparedH5wasm } from '../src/h5/prepared-h5wasm.js';
import { RunningChecksum } from '../src/model/checksums.js';
import { checksumOfLevel } from '../src/verify/level-reader.js';

// The prepared h5wasm (scripts/prepare-h5wasm.mjs, docs/adr/018) compresses gzip chunks on the
// host through src/h5/host-deflate.ts: by libdeflate (docs/adr/020), or Node's zlib without its
// binding (BDV_DEFLATE=zlib here). Read back here by h5py (Debian's HDF5 and zlib).
const dir = tempDir('bdv-host-deflate-');
afterAll(() => dir.remove());

// Edges on every axis against 4x64x64 blocks: partial chunks are compressed padded, as HDF5 does.
const SHAPE: [number, number, number] = [6, 150, 203];

/** A deterministic stream of 16-bit values (the high half of a 32-bit LCG). */
function random16(seed: number): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16;
}

/** Camera-like pixels (offset, smooth signal, noise): what the filter meets in a facility. */
function cameraLike(seed: number): Uint16Array {
  const noise = random16(seed);
  const [nz, ny, nx] = SHAPE;
  const data = new Uint16Array(nz * ny * nx);
  for (let z = 0, i = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++)
        data[i] = 100 + Math.round(400 * Math.sin(x / 17) * Math.cos(y / 23)) + 400 + (noise() % 23);
  return data;
}

/** Random 16-bit pixels: deflate makes them larger, so the filter needs a bigger heap block. */
function incompressible(seed: number): Uint16Array {
  return new Uint16Array(SHAPE[0] * SHAPE[1] * SHAPE[2]).map(random16(seed));
}

async function writeGzip(name: string, level: number, views: Uint16Array[]): Promise<string> {
  const h5 = join(dir.path, `${name}.h5`);
  const writer = await BdvWriter.create(h5, {
    setup: { tiles: views.length },
    compression: 'gzip',
    compressionLevel: level,
    blockSizeZyx: [[4, 64, 64]],
    subsamplingZyx: [[1, 1, 1]],
  });
  for (const [tile, data] of views.entries()) await writer.appendView({ shapeZyx: SHAPE, data }, { tile });
  await writer.writeXml();
  await writer.close();
  return h5;
}

/**
 * Per stored chunk of one dataset, from h5py: its stored bytes, and what they inflate to (Python's
 * zlib), both base64; and whether the whole dataset reads back equal to `expected` (raw .u16).
 */
function h5pyChunks(h5: string, path: string, expected: Uint16Array) {
  const raw = join(dir.path, 'expected.u16');
  execFileSync(PYTHON, ['-c', 'import sys; open(sys.argv[1], "wb").write(sys.stdin.buffer.read())', raw], {
    input: Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
  });
  const script = [
    'import base64, h5py, json, sys, zlib, numpy as np',
    'd = h5py.File(sys.argv[1], "r")[sys.argv[2]]',
    'chunks = []',
    'for i in range(d.id.get_num_chunks()):',
    '    info = d.id.get_chunk_info(i)',
    '    stored = d.id.read_direct_chunk(info.chunk_offset)[1]',
    '    chunks.append({"stored": base64.b64encode(stored).decode(), "raw": base64.b64encode(zlib.decompress(stored)).decode()})',
    'pixels = np.fromfile(sys.argv[3], dtype="<i2").reshape(d.shape)',
    'print(json.dumps({"filters": d.compression, "level": d.compression_opts, "same": bool(np.array_equal(d[...], pixels)), "chunks": chunks}))',
  ].join('\n');
  return JSON.parse(
    execFileSync(PYTHON, ['-c', script, h5, path, raw], { maxBuffer: 256 << 20 }).toString(),
  ) as {
    filters: string;
    level: number;
    same: boolean;
    chunks: { stored: string; raw: string }[];
  };
}

afterEach(() => void vi.unstubAllEnvs());

describe.each(DEFLATE_ENGINE_NAMES)('gzip chunks written by %s', (engine) => {
  const deflated = DEFLATE_ENGINES[engine];
  const useEngine = () => useDeflateEngine(engine);

  it('come from the prepared h5wasm, whose build routed deflate to the host, and the engine asked for', () => {
    const prepared = preparedH5wasm();
    expect(prepared, 'run `npm run build`').toBeDefined();
    expect(JSON.parse(readFileSync(new URL('source.json', prepared), 'utf8')).deflate).toBe('node-zlib');
    useEngine();
    expectDeflateEngineInUse(engine);
  });

  for (const level of [1, 4, 9]) {
    it(`stores, at level ${level}, the bytes ${engine} makes of each chunk, and h5py reads the pixels back`, async () => {
      useEngine();
      const views = [cameraLike(level), incompressible(level + 100)];
      const h5 = await writeGzip(`${engine}-level-${level}`, level, views);
      for (const [tile, pixels] of views.entries()) {
        const read = h5pyChunks(h5, `t00000/s0${tile}/0/cells`, pixels);
        expect(read.filters).toBe('gzip');
        expect(read.level).toBe(level);
        expect(read.same).toBe(true);
        expect(read.chunks).toHaveLength(2 * 3 * 4);
        for (const chunk of read.chunks) {
          const stored = Buffer.from(chunk.stored, 'base64');
          expect(stored.equals(deflated(Buffer.from(chunk.raw, 'base64'), level))).toBe(true);
        }
        // Random pixels grow under deflate: whole chunks need a heap block larger than HDF5's.
        const grew = read.chunks.filter((c) => Buffer.from(c.stored, 'base64').length > 4 * 64 * 64 * 2);
        expect(grew.length).toBe(tile === 1 ? 6 : 0);
      }
      // Our own reading: through HDF5 (inflate in wasm, untouched), and verification (our
      // chunk reader + Node's inflate on this thread) against the checksums recorded while writing.
      const file = await BdvH5File.openForReading(h5);
      try {
        for (const [tile, pixels] of views.entries()) {
          const expected = new RunningChecksum();
          expected.add(pixels);
          expect(checksumOfLevel(file, 0, tile, 0).crc32).toBe(expected.hex);
        }
      } finally {
        file.close();
      }
      expect((await verifyDataset(h5.replace(/\.h5$/, '.xml'))).ok).toBe(true);
    });
  }
});
