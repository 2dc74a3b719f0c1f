import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grayPng, writeBeadNpy } from '../../../test/support/bead-stacks.js';
import { holdLock, untilLockIs } from '../../../test/support/lock-holder.js';
import { tempDir } from '../../../test/support/oracle.js';
import { bdv, bdvAsync } from './cli-run.js';

// `bdv preview` as a user runs it: on files `bdv convert` wrote (both layouts), PNGs decoded here.

const dir = tempDir('bdv-cli-preview-');
afterAll(() => dir.remove());
const p = (name: string) => join(dir.path, name);

// 2 channels x 2 tiles of 6 x 300 x 200; one bead row per view, at a place of its own.
const beadsOf = (c: number, s: number) =>
  [0, 1, 2, 3].map((i) => ({
    z: 1 + i,
    y: 40 + 150 * c + 20 * s,
    x: 20 + 100 * s + 12 * i,
    size: 10,
    value: 9000,
  }));

beforeAll(() => {
  for (const c of [0, 1])
    for (const s of [0, 1]) writeBeadNpy(p(`t0_c${c}_s${s}.npy`), [6, 300, 200], beadsOf(c, s));
  for (const layout of ['single', 'partitioned']) {
    const r = bdv([
      'convert',
      dir.path,
      '-o',
      p(`${layout}.h5`),
      '--pattern',
      't{time}_c{channel}_s{tile}.npy',
      '--subsampling',
      '1,1,1:1,2,2',
      '--layout',
      layout,
      '--progress',
      'none',
    ]);
    expect(r.status, r.stderr).toBe(0);
  }
});

describe('bdv preview', () => {
  it('writes one view as a maximum projection, beads where the data has them', () => {
    for (const layout of ['single', 'partitioned']) {
      const out = p(`${layout}-view.png`);
      const r = bdv(['preview', p(`${layout}.xml`), '--view', 't0-c1-s1', '-o', out, '--size', '256']);
      expect(r.status, r.stderr).toBe(0);
      // level 0 is 300 x 200 (more than 256), level 1 150 x 100
      expect(r.stdout).toMatch(/100x150, max along z of timepoint 0 setup 3 \(level 1, 6x150x100 z,y,x\)/);
      const png = grayPng(readFileSync(out));
      expect([png.width, png.height]).toEqual([100, 150]);
      for (const b of beadsOf(1, 1))
        expect(png.at(Math.floor((b.x + 5) / 2), Math.floor((b.y + 5) / 2))).toBe(255);
      const other = beadsOf(0, 0)[0]!;
      expect(png.at(Math.floor((other.x + 5) / 2), Math.floor((other.y + 5) / 2))).toBeLessThan(60);
    }
  });

  it("makes the PNG's folder, as bdv convert makes its output's", () => {
    const out = p('new/folder/sheet.png');
    const r = bdv(['preview', p('single.xml'), '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(grayPng(readFileSync(out)).width).toBe(2 + 2 * 258);
  });

  it('writes a contact sheet of a timepoint without --view', () => {
    const out = p('sheet.png');
    const r = bdv(['preview', p('single.xml'), '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /contact sheet of 4 view\(s\) of timepoint 0 \(2 row\(s\) x 2 tile column\(s\)\)/,
    );
    const png = grayPng(readFileSync(out));
    expect([png.width, png.height]).toEqual([2 + 2 * 258, 2 + 2 * 258]);
  });

  it('refuses what it cannot do with one line and exit 1, and keeps an existing PNG', () => {
    writeFileSync(p('keep.png'), 'mine');
    const cases: [string[], RegExp][] = [
      [['preview', p('single.xml'), '-o', p('keep.png')], /keep\.png exists \(pass --overwrite/],
      [['preview', p('single.h5'), '-o', p('x.png')], /give the dataset's \.xml/],
      [['preview', p('single.xml'), '--view', 't0-c7', '-o', p('x.png')], /--view: no view t0-i0-c7-s0-a0/],
      [['preview', p('single.xml'), '--view', 'c1-c2', '-o', p('x.png')], /is not a view like t0-c1-s2/],
      [['preview', p('single.xml'), '--time', '3', '-o', p('x.png')], /--time: no view of timepoint 3/],
      [
        ['preview', p('single.xml'), '--view', 't0', '--size', '9000', '-o', p('x.png')],
        /option '--size <px>' argument '9000' is invalid\. must be 16-2048 pixels/,
      ],
      // A contact sheet too: it had drawn its views at 256 pixels without a word.
      [
        ['preview', p('single.xml'), '--size', '99999', '-o', p('x.png')],
        /option '--size <px>' argument '99999' is invalid\. must be 16-2048 pixels/,
      ],
      [['preview', p('missing.xml'), '-o', p('x.png')], /missing\.xml: no such file/],
      [
        ['preview', p('single.xml'), '-o', p('single.h5'), '--overwrite'],
        /the preview is a PNG; name it \*\.png/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = bdv(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(readFileSync(p('keep.png'), 'utf8')).toBe('mine');
    expect(existsSync(p('x.png'))).toBe(false);
  });

  it('never writes over a file it did not make: its own temporary, or a PNG that appears while it waits', async () => {
    writeFileSync(p('mine.png.part'), "not the preview's");
    expect(bdv(['preview', p('single.xml'), '-o', p('mine.png')]).status).toBe(0);
    expect(readFileSync(p('mine.png.part'), 'utf8')).toBe("not the preview's");
    expect(readdirSync(dir.path).filter((n) => n.endsWith('.part'))).toEqual(['mine.png.part']);

    // A writer holds the file: the preview waits, and meanwhile somebody puts a PNG at its -o.
    const fence = await holdLock(p('.single.h5.lock'));
    const run = bdvAsync(['preview', p('single.xml'), '-o', p('late.png')]);
    await untilLockIs(p('.single.h5.lock'), 'waited on');
    writeFileSync(p('late.png'), 'made meanwhile');
    fence.release();
    const r = await run;
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/late\.png appeared meanwhile: kept \(pass --overwrite to replace it\)/);
    expect(readFileSync(p('late.png'), 'utf8')).toBe('made meanwhile');
    expect(bdv(['preview', p('single.xml'), '-o', p('late.png'), '--overwrite']).status).toBe(0);
    expect(grayPng(readFileSync(p('late.png'))).width).toBeGreaterThan(0);
  });
});

// An archive on a read-only share, its files copied without the hidden lock file (needs
// root to mount, as CI runs; skipped elsewhere).
const share = p('share');
mkdirSync(share);
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', share]).status === 0;
afterAll(() => {
  if (mounted) spawnSync('umount', [share]);
});

describe.skipIf(!mounted)('bdv preview of a dataset on a read-only share (tmpfs)', () => {
  it('reads it without the lock file it cannot create; verify and info as well', () => {
    for (const file of ['single.h5', 'single.xml', 'single.checksums.json'])
      copyFileSync(p(file), join(share, file));
    expect(spawnSync('mount', ['-o', 'remount,ro', share]).status).toBe(0);
    const out = p('share-sheet.png');
    const r = bdv(['preview', join(share, 'single.xml'), '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(grayPng(readFileSync(out)).width).toBe(2 + 2 * 258);
    expect(bdv(['verify', join(share, 'single.xml')]).status).toBe(0);
    expect(bdv(['info', join(share, 'single.h5')]).status).toBe(0);
    // Writing there is refused in words (flock's "exited with 66" was all it said).
    const convert = bdv(['convert', p('t0_c0_s0.npy'), '-o', join(share, 'new.h5'), '--progress', 'none']);
    expect(convert.status).toBe(1);
    expect(convert.stderr).toBe(
      `bdv: error: cannot write into ${share}: it is on a read-only file system; choose another -o\n`,
    );
    expect(readdirSync(share).sort()).toEqual(['single.checksums.json', 'single.h5', 'single.xml']);
  });
});
