import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePixels, makeStacks, PYTHON, tempDir } from '../../../test/support/oracle.js';
import { bdv } from './cli-run.js';

// A view that fails once the output exists — its input unreadable past the header that was
// checked before anything was written — must end the run with one reason naming the file and the
// page, keep what was written, and say how to go on; --resume after the input is fixed must give
// every view, pixel for pixel (numpy and h5py: test/oracle).

const dir = tempDir('bdv-failed-view-');
const p = (...parts: string[]) => join(dir.path, ...parts);
afterAll(() => dir.remove());

const SHAPE = [6, 40, 48];

/** Overwrites the compressed bytes of one page's strip with garbage: its header stays valid. */
function spoilPage(tiff: string, page: number): void {
  execFileSync(PYTHON, [
    '-c',
    `import sys, tifffile
with tifffile.TiffFile(sys.argv[1]) as t:
    offset, count = t.pages[int(sys.argv[2])].dataoffsets[0], t.pages[int(sys.argv[2])].databytecounts[0]
with open(sys.argv[1], 'r+b') as f:
    f.seek(offset + 2)
    f.write(b'\\x55' * (count - 2))`,
    tiff,
    String(page),
  ]);
}

/** The TIFF's pages as a .npy, for the pixel comparison (tifffile reads, not our reader). */
function asNpy(tiff: string, npy: string): void {
  execFileSync(PYTHON, [
    '-c',
    'import sys, numpy, tifffile; numpy.save(sys.argv[2], tifffile.imread(sys.argv[1]))',
    tiff,
    npy,
  ]);
}

beforeAll(() => {
  mkdirSync(p('in'));
  makeStacks(dir.path, [
    { path: p('in', 'v_c0.tif'), shape: SHAPE, seed: 1, format: 'tiff', compression: 'zlib' },
    { path: p('in', 'v_c1.tif'), shape: SHAPE, seed: 2, format: 'tiff', compression: 'zlib' },
  ]);
  copyFileSync(p('in', 'v_c1.tif'), p('good_c1.tif'));
  spoilPage(p('in', 'v_c1.tif'), 5);
});

describe.each(['single', 'partitioned'])('a view failing mid-run (%s layout)', (layout) => {
  const out = p(`out-${layout}.h5`);
  const args = [
    'convert',
    p('in'),
    '-p',
    'v_c{channel}.tif',
    '-o',
    out,
    '--layout',
    layout,
    '--progress',
    'none',
  ];
  if (layout === 'partitioned') args.push('--jobs', '2');

  it('exits 1 naming the file and page, keeps the output, and says how to go on', () => {
    const r = bdv(args);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^bdv: error: .*v_c1\.tif: not a readable TIFF \(page 5: .+\)$/);
    expect(lines[0]).not.toMatch(/undefined/);
    expect(lines[1]).toBe(
      `  ${out} keeps the 1 view(s) finished before this failure: once its cause is fixed, run the same command with --resume to convert the rest (or --overwrite to start again)`,
    );
    // Run with --overwrite, the hint swaps the flag (the two exclude each other).
    const overwriting = bdv([...args, '--overwrite']);
    expect(overwriting.status).toBe(1);
    expect(overwriting.stderr).toContain('run the same command with --resume instead of --overwrite');
    expect(lines).toHaveLength(2);
    expect(statSync(out).isFile()).toBe(true);
  });

  it('--resume once the input is fixed writes the rest, pixel for pixel', () => {
    copyFileSync(p('good_c1.tif'), p('in', 'v_c1.tif'));
    const r = bdv([...args, '--resume']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/wrote 1 view/);
    spoilPage(p('in', 'v_c1.tif'), 5); // as the next layout's run expects it
    for (const c of [0, 1]) asNpy(c === 0 ? p('in', 'v_c0.tif') : p('good_c1.tif'), p(`c${c}.npy`));
    const views = comparePixels({
      h5: out,
      subsampling_zyx: [[1, 1, 1]],
      views: [0, 1].map((setup) => ({ time: 0, setup, npy: p(`c${setup}.npy`) })),
    });
    expect(views).toHaveLength(2);
    for (const view of views) for (const level of view.levels) expect(level.mismatches).toBe(0);
    expect(readFileSync(out.replace(/\.h5$/, '.xml'), 'utf8')).toMatch(/<ViewSetup>/);
  });
});
