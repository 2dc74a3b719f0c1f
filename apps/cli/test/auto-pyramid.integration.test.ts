import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBdv, makeStacks, tempDir } from '../../../test/support/oracle.js';
import { zerosNpy } from '../../../test/support/sparse-npy.js';
import { bdv } from './cli-run.js';

// `bdv convert` without factors proposes the pyramid as BigDataViewer's exporter does, says so in
// its summary, and h5py finds those levels and chunks in the file.

const dir = tempDir('bdv-auto-');
beforeAll(() =>
  makeStacks(dir.path, [{ path: join(dir.path, 'stack.npy'), shape: [12, 300, 520], seed: 3 }]),
);
afterAll(() => dir.remove());

/** A .npy of zeros in `dir`, as a sparse file (test/support/sparse-npy.ts). */
const zerosNpyIn = (name: string, shapeZyx: [number, number, number]) =>
  zerosNpy(join(dir.path, name), shapeZyx);

describe('bdv convert pyramids', () => {
  it('defaults to "auto": BigDataViewer\'s proposal for the first view, in the summary and the file', () => {
    const out = join(dir.path, 'auto.h5');
    const r = bdv([
      'convert',
      join(dir.path, 'stack.npy'),
      '-o',
      out,
      '--voxel-size',
      '0.5,0.5,2',
      '--unit',
      'um',
    ]);
    expect(r.status, r.stderr).toBe(0);
    // voxel (0.5,0.5,2) -> scale (1,1,4): 32x32x4 with the 4 along z, then x,y halve; at level 1
    // the scale is (1,1,2): 16³ and every axis halves; level 2 is 130 wide -> stop.
    expect(r.stdout).toContain(
      'pyramid: 3 level(s) 1,1,1:1,2,2:2,4,4, blocks 4,32,32:16,16,16:16,16,16 (z,y,x)',
    );
    expect(r.stdout).toMatch(
      /--subsampling and --block "auto": BigDataViewer's proposal for t0-i0-c0-s0-a0 \(12x300x520 z,y,x, voxel 0\.5x0\.5x2 x,y,z\)/,
    );
    const h5 = describeBdv(out).h5;
    expect(h5.values['s00/resolutions']).toEqual([
      [1, 1, 1],
      [2, 2, 1],
      [4, 4, 2],
    ]);
    expect(h5.values['s00/subdivisions']).toEqual([
      [32, 32, 4],
      [16, 16, 16],
      [16, 16, 16],
    ]);
    expect(h5.datasets['t00000/s00/0/cells']!.chunks).toEqual([4, 32, 32]);
  });

  it('takes given factors as given (npy2bdv blocks unless --block), with no "auto" note', () => {
    const out = join(dir.path, 'given.h5');
    const r = bdv(['convert', join(dir.path, 'stack.npy'), '-o', out, '--subsampling', '1,1,1:2,2,2']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('pyramid: 2 level(s) 1,1,1:2,2,2, blocks 4,256,256 (z,y,x)');
    expect(r.stdout).not.toContain('"auto"');
    expect(describeBdv(out).h5.values['s00/resolutions']).toEqual([
      [1, 1, 1],
      [2, 2, 2],
    ]);
    // Block sizes for levels that do not exist are not used (npy2bdv's rule): said, not listed as used.
    const extra = join(dir.path, 'extra-blocks.h5');
    const more = ['--subsampling', '1,1,1:2,2,2', '--block', '4,32,32:4,16,16:2,8,8:2,4,4'];
    const e = bdv(['convert', join(dir.path, 'stack.npy'), '-o', extra, ...more]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toContain('pyramid: 2 level(s) 1,1,1:2,2,2, blocks 4,32,32:4,16,16 (z,y,x)\n');
    expect(e.stdout).toContain('    2 block size(s) beyond the last level not used: 2,8,8:2,4,4\n');
    expect(describeBdv(extra).h5.values['s00/subdivisions']).toEqual([
      [32, 32, 4],
      [16, 16, 4],
    ]);
  });

  it("makes proposed blocks shallower where their slabs would pass a view's memory bound, and says so", () => {
    // 8 planes of 4096x4096 (a sparse file of zeros: cheap to make and to read): 16³ proposed,
    // level 0's 8-plane slab alone is 256 MiB. Halved to 4 planes, its chunks keep 4096 voxels.
    const wide = zerosNpyIn('wide.npy', [8, 4096, 4096]);
    const out = join(dir.path, 'wide.h5');
    const r = bdv(['convert', wide, '-o', out, '--compression', 'gzip']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('blocks 4,32,32:16,16,16:16,16,16:16,16,16:16,16,16 (z,y,x)');
    expect(r.stdout).toContain(
      'blocks of level(s) 0 made shallower than proposed: their chunk-deep slabs would pass the 256 MiB a view may buffer',
    );
    expect(describeBdv(out).h5.datasets['t00000/s00/0/cells']!.chunks).toEqual([4, 32, 32]);
    const verified = bdv(['verify', out.replace(/\.h5$/, '.xml')]);
    expect(verified.status, verified.stderr).toBe(0);
  });

  it("refuses given blocks too deep for a view's memory before the output exists, naming the input", () => {
    // 9 planes of 4096x4096 in 16-deep blocks: a 288 MiB slab (a sparse file: nothing to read)
    const deep = zerosNpyIn('deep.npy', [9, 4096, 4096]);
    const out = join(dir.path, 'deep.h5');
    const r = bdv(['convert', deep, '-o', out, '--subsampling', '1,1,1', '--block', '16,16,16']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `${deep}: --block (blockSizeZyx): a 9x4096x4096 (z,y,x) stack with these blocks needs 288 MiB of chunk-deep slabs`,
    );
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(dir.path, 'deep.xml'))).toBe(false);
  });

  it('refuses fewer --block shapes than levels, unless one serves them all, before the output exists', () => {
    const out = join(dir.path, 'two-blocks.h5');
    const args = ['convert', join(dir.path, 'stack.npy'), '-o', out, '--subsampling', '1,1,1:2,2,2:4,4,4'];
    const r = bdv([...args, '--block', '4,64,64:4,32,32']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      '--block: 2 chunk shapes for 3 levels of --subsampling; give one (it serves every level) or one per level',
    );
    expect(existsSync(out)).toBe(false);
    const one = bdv([...args, '--block', '4,64,64']);
    expect(one.status, one.stderr).toBe(0);
    expect(describeBdv(out).h5.datasets['t00000/s00/2/cells']!.chunks).toEqual([4, 64, 64]);
  });

  it('--subsampling auto with --block keeps the given blocks', () => {
    const out = join(dir.path, 'auto-levels.h5');
    const r = bdv([
      'convert',
      join(dir.path, 'stack.npy'),
      '-o',
      out,
      '--subsampling',
      'auto',
      '--block',
      '4,64,64',
    ]);
    expect(r.status, r.stderr).toBe(0);
    // voxel 1,1,1: 16³ would be proposed, but the blocks are given; extent 520 -> 260 -> 130
    expect(r.stdout).toContain('pyramid: 3 level(s) 1,1,1:2,2,2:4,4,4, blocks 4,64,64 (z,y,x)');
    expect(r.stdout).toContain('--subsampling "auto"');
  });
});
