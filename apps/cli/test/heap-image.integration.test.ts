import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeBdv, makeStacks, tempDir } from '../../../test/support/oracle.js';
import { zerosNpy } from '../../../test/support/sparse-npy.js';

// The build makes a twin of the prepared h5wasm whose heap starts with HDF5 initialised
// (docs/adr/026): a conversion must not be able to tell. The same conversion, run as a user runs
// it with HDF5 started from that image, initialised at start (BDV_H5WASM=no-heap-image), and with
// an HDF5_* variable set (HDF5_DRIVER, which HDF5 reads as it initialises: the image was made
// without it, so HDF5 must initialise and read it; here set to the driver it uses anyway),
// writes the same file (read back by h5py and h5diff); which copy each process loaded is read from its module log.

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'bdv.js');
const HOOK = join(here, 'support', 'record-imports.mjs');
const dir = tempDir('bdv-heap-image-');
afterAll(() => dir.remove());

interface Converted {
  h5: string;
  bytes: number;
  xml: string;
  /** The HDF5 API module the process loaded: which copy of h5wasm. */
  hdf5: string[];
}

function convert(name: string, env: NodeJS.ProcessEnv): Converted {
  const out = join(dir.path, name);
  mkdirSync(out);
  const log = join(out, 'imports.log');
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      HOOK,
      BIN,
      'convert',
      join(dir.path, 'stack.npy'),
      '-o',
      join(out, 'out.h5'),
      '--compression',
      'gzip',
      '--subsampling',
      '1,1,1:2,2,2',
      '--block',
      '8,32,32',
      '--progress',
      'none',
    ],
    { encoding: 'utf8', env: { ...process.env, BDV_DEBUG: '', IMPORT_LOG: log, ...env } },
  );
  expect(r.status, r.stderr).toBe(0);
  return {
    h5: join(out, 'out.h5'),
    bytes: statSync(join(out, 'out.h5')).size,
    xml: readFileSync(join(out, 'out.xml'), 'utf8'),
    hdf5: readFileSync(log, 'utf8')
      .split('\n')
      .filter((url) => /\/h5wasm\/hdf5_hl[.\w]*\.js$/.test(url))
      .map((url) => url.slice(url.lastIndexOf('/') + 1)),
  };
}

describe('HDF5 started from the heap image', () => {
  it('writes the same file as HDF5 initialised at start, with or without HDF5_* variables', () => {
    makeStacks(dir.path, [{ path: join(dir.path, 'stack.npy'), shape: [20, 70, 90], seed: 11 }]);

    const image = convert('image', {});
    const initialised = convert('initialised', { BDV_H5WASM: 'no-heap-image' });
    const variable = convert('variable', { HDF5_DRIVER: 'sec2' });

    expect(image.hdf5).toEqual(['hdf5_hl.initialised.js']);
    expect(initialised.hdf5).toEqual(['hdf5_hl.js']);
    expect(variable.hdf5).toEqual(['hdf5_hl.js']);
    expect(image.bytes).toBeGreaterThan(20_000);
    const layout = describeBdv(image.h5);
    for (const other of [initialised, variable]) {
      // the same objects, laid out alike (only HDF5's object times may differ, by the second)
      expect(other.bytes).toBe(image.bytes);
      expect(describeBdv(other.h5)).toEqual(layout);
      const diff = spawnSync('h5diff', [image.h5, other.h5], { encoding: 'utf8' });
      expect(diff.status, diff.stdout + diff.stderr).toBe(0);
      expect(other.xml).toBe(image.xml);
    }
  });

  it("reads 128 MiB mapped slabs right in h5wasm's own private heap, which grows under them", () => {
    // Populated when used (ADR 024): a private heap's ArrayBuffer is replaced when it grows (the
    // pyramid's buffers at the first slab), so the second slab needs a view made then. A sparse
    // file of zeros: 16 planes of 4096 x 2048, two 128 MiB slabs, nothing to read from disk.
    const shape: [number, number, number] = [16, 4096, 2048];
    const input = zerosNpy(join(dir.path, 'sparse.npy'), shape);
    const out = join(dir.path, 'private-heap');
    mkdirSync(out);
    const env = { ...process.env, BDV_DEBUG: '', BDV_H5WASM: 'package' };
    const args = ['--subsampling', '1,1,1:2,2,2', '--block', '8,256,256', '--compression', 'gzip'];
    const r = spawnSync(
      process.execPath,
      [BIN, 'convert', input, '-o', join(out, 'out.h5'), ...args, '--progress', 'none'],
      { encoding: 'utf8', env },
    );
    expect(r.status, r.stderr).toBe(0);
    const verified = spawnSync(process.execPath, [BIN, 'verify', join(out, 'out.xml')], {
      encoding: 'utf8',
      env,
    });
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
  });

  it('names an HDF5_* variable that stops HDF5 from starting, and writes nothing', () => {
    // A driver this build lacks (set for another program): HDF5 fails to initialise, and its next
    // call traps in wasm. The error must say which variable, not only "memory access out of bounds".
    makeStacks(dir.path, [{ path: join(dir.path, 'small.npy'), shape: [4, 16, 16], seed: 3 }]);
    const out = join(dir.path, 'bad-driver');
    mkdirSync(out);
    const r = spawnSync(
      process.execPath,
      [BIN, 'convert', join(dir.path, 'small.npy'), '-o', join(out, 'out.h5'), '--progress', 'none'],
      { encoding: 'utf8', env: { ...process.env, BDV_DEBUG: '', HDF5_DRIVER: 'no-such-driver' } },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /bdv: error: HDF5 could not create .*HDF5_DRIVER set: HDF5 reads it when it starts/,
    );
    expect(readdirSync(out).filter((name) => !name.endsWith('.lock'))).toEqual([]);
  });
});
