import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  child,
  comparePixels,
  describeBdv,
  makeStacks,
  PYTHON,
  tempDir,
  type XmlNode,
} from '../../../test/support/oracle.js';
import { bdv, bdvSpawn, bdvStoppedAt } from './cli-run.js';

// `bdv convert` stopped for real (SIGKILL, Ctrl-C's SIGINT) after its second committed view and
// continued with --resume must give what a clean run gives; `bdv verify` must accept that and
// reject a copy with one pixel changed. h5py and numpy (test/oracle) are the independent readers.

const dir = tempDir('bdv-resume-');
const p = (...parts: string[]) => join(dir.path, ...parts);
afterAll(() => dir.remove());

const SUBSAMPLING = [
  [1, 1, 1],
  [2, 2, 2],
  [4, 4, 4],
];
/** 2 channels x 3 tiles of 32x256x256 (4 MB each, ~0.2 s per view here): time to stop it mid-way. */
const VIEWS = [0, 1].flatMap((channel) => [0, 1, 2].map((tile) => ({ channel, tile })));
const LAYOUTS = ['single', 'partitioned'] as const;
type LayoutName = (typeof LAYOUTS)[number];

function manifest(layout: LayoutName, dataset: Record<string, unknown> = {}) {
  return {
    dataset: {
      name: 'resume-case',
      setup: { channels: 2, tiles: 3 },
      compression: 'gzip',
      subsamplingZyx: SUBSAMPLING,
      blockSizeZyx: [[8, 64, 64]],
      layout,
      attributeLabels: { channel: ['488', '561'] },
      ...dataset,
    },
    views: VIEWS.map((v) => ({
      ...v,
      source: { uri: `c${v.channel}_s${v.tile}.npy` },
      voxelSizeXyz: [0.5, 0.5, 2],
      voxelUnits: 'um',
      affine: [1, 0, 0, 300 * v.tile, 0, 1, 0, 0, 0, 0, 1, 0],
    })),
  };
}

beforeAll(() => {
  makeStacks(
    dir.path,
    VIEWS.map((v, i) => ({ path: p(`c${v.channel}_s${v.tile}.npy`), shape: [32, 256, 256], seed: i })),
  );
  makeStacks(dir.path, [{ path: p('small.npy'), shape: [4, 16, 16], seed: 99 }]);
  for (const layout of LAYOUTS) writeFileSync(p(`${layout}.json`), JSON.stringify(manifest(layout)));
});

/** The command as a person would type it, into folder `run` (one per run, same file names). */
function convertArgs(layout: LayoutName, run: string, extra: string[] = []): string[] {
  mkdirSync(p(run), { recursive: true });
  const jobs = layout === 'partitioned' ? ['--jobs', '2'] : [];
  return [
    'convert',
    '-m',
    p(`${layout}.json`),
    '-o',
    p(run, 'out.h5'),
    '--progress',
    'lines',
    ...jobs,
    ...extra,
  ];
}

function recorded(run: string): { complete: boolean; views: unknown[] } {
  return JSON.parse(readFileSync(p(run, 'out.checksums.json'), 'utf8')) as {
    complete: boolean;
    views: unknown[];
  };
}

function expectPixelsOfInputs(h5: string): void {
  const views = VIEWS.map((v) => ({
    time: 0,
    setup: v.channel * 3 + v.tile,
    npy: p(`c${v.channel}_s${v.tile}.npy`),
  }));
  const compared = comparePixels({ h5, subsampling_zyx: SUBSAMPLING, views });
  expect(compared).toHaveLength(6);
  for (const view of compared) {
    expect(view.levels).toHaveLength(3);
    for (const level of view.levels) {
      expect(level.shape).toEqual(level.expected_shape);
      expect(level.mismatches).toBe(0);
    }
  }
}

/** The XML as ElementTree parses it, partitions in (time, setup) order (threads finish in any order). */
function xmlOf(run: string): XmlNode {
  const xml = describeBdv(p(run, 'out.h5'), p(run, 'out.xml')).xml!;
  const loader = child(child(xml, 'SequenceDescription'), 'ImageLoader');
  loader.children.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return xml;
}

/** Changes one pixel of level 0 of view (t0, setup 1) in place with h5py. */
function changeOnePixel(h5: string): void {
  const script = [
    'import sys, h5py',
    "with h5py.File(sys.argv[1], 'r+') as f:",
    "    d = f['t00000/s01/0/cells']",
    '    d[5, 6, 7] = d[5, 6, 7] ^ 1',
  ].join('\n');
  execFileSync(PYTHON, ['-c', script, h5]);
}

// Every view its own commit (BDV_COMMIT_GROUP_MIB=0; partitions always are): a kill after the
// second view keeps at least two.
const EVERY_VIEW = { BDV_COMMIT_GROUP_MIB: '0' };

describe.each(LAYOUTS)('bdv convert --resume after kill -9 (%s layout)', (layout) => {
  it('keeps the views committed before the kill, writes the rest, and equals a clean run', async () => {
    const clean = bdv(convertArgs(layout, `${layout}-clean`));
    expect(clean.status, clean.stderr).toBe(0);

    const killed = await bdvStoppedAt(
      convertArgs(layout, `${layout}-killed`),
      '[2/6]',
      'SIGKILL',
      EVERY_VIEW,
    );
    expect(killed.stopped, killed.stderr).toBe(true);
    expect(killed.signal).toBe('SIGKILL');
    const before = recorded(`${layout}-killed`);
    expect(before.complete).toBe(false);
    expect(before.views.length).toBeGreaterThanOrEqual(2);
    expect(before.views.length).toBeLessThan(6);
    expect(existsSync(p(`${layout}-killed`, 'out.xml'))).toBe(false);

    const again = bdv(convertArgs(layout, `${layout}-killed`));
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/--resume to continue/);

    const resumed = bdv(convertArgs(layout, `${layout}-killed`, ['--resume']));
    expect(resumed.status, resumed.stderr).toBe(0);
    const kept = before.views.length;
    expect(resumed.stderr).toContain(`resuming: ${kept} view(s)`);
    expect(resumed.stdout).toContain(`kept ${kept} view(s) the earlier run wrote, wrote ${6 - kept} view(s)`);
    expect(recorded(`${layout}-killed`)).toMatchObject({ complete: true });
    expect(
      readdirSync(p(`${layout}-killed`)).filter((f) => f.endsWith('.tmp') || f.endsWith('.journal')),
    ).toEqual([]);

    expectPixelsOfInputs(p(`${layout}-killed`, 'out.h5'));
    expect(describeBdv(p(`${layout}-killed`, 'out.h5')).h5).toEqual(
      describeBdv(p(`${layout}-clean`, 'out.h5')).h5,
    );
    expect(xmlOf(`${layout}-killed`)).toEqual(xmlOf(`${layout}-clean`));
    if (layout === 'single')
      expect(readFileSync(p('single-killed', 'out.xml'), 'utf8')).toBe(
        readFileSync(p('single-clean', 'out.xml'), 'utf8'),
      );
  });

  it('bdv verify accepts the result anywhere, and names the view and level of one changed pixel', () => {
    const ok = bdv(['verify', p(`${layout}-killed`, 'out.xml')]);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/all 6 view\(s\) read back as written/);

    // The dataset's files moved together to another folder.
    const copy = p(`${layout}-copy`);
    mkdirSync(copy);
    for (const file of readdirSync(p(`${layout}-killed`)).filter((f) => f.startsWith('out')))
      copyFileSync(p(`${layout}-killed`, file), join(copy, file));
    expect(bdv(['verify', join(copy, 'out.xml')]).status).toBe(0);

    const holder = layout === 'single' ? 'out.h5' : 'out-t00000-s01.h5';
    changeOnePixel(join(copy, holder));
    const bad = bdv(['verify', join(copy, 'out.xml')]);
    expect(bad.status).toBe(1);
    const lines = bad.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(
        `^timepoint 0 setup 1 \\(${holder.replace('.', '\\.')}\\): level 0: pixels differ from what was written`,
      ),
    );
    expect(lines[1]).toMatch(/1 of 6 view\(s\) did not read back as written$/);
    // the same verdict read on this thread as on one thread per core (the default)
    const oneThread = bdv(['verify', join(copy, 'out.xml'), '--jobs', '1']);
    expect([oneThread.status, oneThread.stdout]).toEqual([1, bad.stdout]);
    // Given the .h5 (or the partition that differs), the XML beside it is read: the same verdict.
    const byH5 = bdv(['verify', join(copy, holder)]);
    expect([byH5.status, byH5.stdout]).toEqual([1, bad.stdout]);
    for (const jobs of ['0', '65', 'two'])
      expect(bdv(['verify', join(copy, 'out.xml'), '--jobs', jobs]).stderr).toContain(
        `--jobs: expected an integer from 1 to 64; got "${jobs}"`,
      );
    const json = bdv(['verify', join(copy, 'out.xml'), '--json']);
    expect(json.status).toBe(1);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      views: { setupId: number; problems: string[] }[];
    };
    expect(report.ok).toBe(false);
    expect(report.views.filter((v) => v.problems.length > 0).map((v) => v.setupId)).toEqual([1]);
  });
});

describe('bdv convert --resume after kill -9 inside a commit group (single layout, the default)', () => {
  it('loses only the uncommitted views: the file rolls back to its last commit and --resume equals a clean run', async () => {
    const run = 'single-group-killed';
    const killed = await bdvStoppedAt(convertArgs('single', run), '[2/6]', 'SIGKILL');
    expect(killed.stopped, killed.stderr).toBe(true);
    // Two views were written into a group of tiny views that had not committed yet.
    const before = recorded(run);
    expect(before.views.length).toBeLessThan(2);
    expect(existsSync(p(run, 'out.h5.journal'))).toBe(true);

    const resumed = bdv(convertArgs('single', run, ['--resume', '--json']));
    expect(resumed.status, resumed.stderr).toBe(0);
    const kept = before.views.length;
    expect(JSON.parse(resumed.stdout)).toMatchObject({ views: 6, kept, written: 6 - kept });
    expect(existsSync(p(run, 'out.h5.journal'))).toBe(false);
    expectPixelsOfInputs(p(run, 'out.h5'));
    expect(describeBdv(p(run, 'out.h5')).h5).toEqual(describeBdv(p('single-clean', 'out.h5')).h5);
    expect(readFileSync(p(run, 'out.xml'), 'utf8')).toBe(readFileSync(p('single-clean', 'out.xml'), 'utf8'));
    expect(bdv(['verify', p(run, 'out.xml')]).status).toBe(0);
  });
});

// Ctrl-C, and a terminal or ssh session that goes away (SIGHUP, the usual end of a long run).
const STOPS = [
  ['single', 'SIGINT', 130],
  ['partitioned', 'SIGINT', 130],
  ['single', 'SIGHUP', 129],
] as const;

describe.each(STOPS)('%s layout, %s during bdv convert', (layout, signal, exitCode) => {
  it('undoes the view being written, exits 128 + the signal saying how to continue, and --resume finishes', async () => {
    const run = `${layout}-${signal.toLowerCase()}`;
    const stopped = await bdvStoppedAt(convertArgs(layout, run), '[2/6]', signal);
    expect(stopped.stopped).toBe(true);
    expect(stopped.status, stopped.stderr).toBe(exitCode);
    // Nothing half-written is left: no journal, no staged partition.
    expect(readdirSync(p(run)).filter((f) => f.endsWith('.tmp') || f.endsWith('.journal'))).toEqual([]);
    const kept = recorded(run).views.length;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(stopped.stderr).toContain(
      `bdv: interrupted: ${p(run, 'out.h5')} keeps the ${kept} view(s) finished before it; run the same command with --resume to continue`,
    );

    const resumed = bdv(convertArgs(layout, run, ['--resume', '--json']));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ views: 6, kept, written: 6 - kept });
    expectPixelsOfInputs(p(run, 'out.h5'));
    expect(bdv(['verify', p(run, 'out.xml')]).status).toBe(0);
  });
});

describe('bdv convert --resume refuses what it cannot continue, changing nothing', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['compression', { compression: 'none' }, /its compression is gzip, this run asks for none/],
    ['blocks', { blockSizeZyx: [[4, 64, 64]] }, /its blocks \(z,y,x\) are 8,64,64/],
    [
      'layout',
      { layout: 'partitioned' },
      /the earlier run wrote the single layout, this run asks for partitioned/,
    ],
  ];
  it.each(cases)('a different %s', (_label, change, message) => {
    writeFileSync(p('changed.json'), JSON.stringify(manifest('single', change)));
    const h5 = p('single-killed', 'out.h5');
    const bytes = readFileSync(h5);
    const mtime = statSync(h5).mtimeMs;
    const r = bdv(['convert', '-m', p('changed.json'), '-o', h5, '--resume', '--progress', 'none']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/--overwrite to start again/);
    expect(statSync(h5).mtimeMs).toBe(mtime);
    expect(readFileSync(h5).equals(bytes)).toBe(true);
  });

  it('a view described differently, or one the run no longer lists', () => {
    const changed = manifest('single');
    changed.views[1]!.voxelSizeXyz = [0.5, 0.5, 3];
    writeFileSync(p('changed.json'), JSON.stringify(changed));
    const out = p('single-killed', 'out.h5');
    const r = bdv(['convert', '-m', p('changed.json'), '-o', out, '--resume']);
    expect(r.stderr).toMatch(
      /view t0-i0-c0-s1-a0: voxelSizeXyz was \[0.5,0.5,2\], this run has \[0.5,0.5,3\]/,
    );
    writeFileSync(
      p('changed.json'),
      JSON.stringify({ ...manifest('single'), views: manifest('single').views.slice(1) }),
    );
    const fewer = bdv(['convert', '-m', p('changed.json'), '-o', out, '--resume']);
    expect(fewer.status).toBe(1);
    expect(fewer.stderr).toMatch(/holds view t0 setup 0, which this run does not list/);
  });

  it('--resume with --overwrite is refused; --resume with no earlier output just converts', () => {
    const both = bdv(['convert', p('small.npy'), '-o', p('fresh.h5'), '--resume', '--overwrite']);
    expect(both.status).toBe(1);
    expect(both.stderr).toMatch(/--overwrite.*cannot be used with option '--resume'|--resume.*--overwrite/);
    const fresh = bdv(['convert', p('small.npy'), '-o', p('fresh.h5'), '--resume', '--progress', 'none']);
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(fresh.stdout).toMatch(/^wrote 1 view\(s\)/);
    expect(bdv(['verify', p('fresh.xml')]).status).toBe(0);
  });
});

describe('bdv convert never replaces what it did not write', () => {
  /** Every file of a folder and its bytes: what must come out of a refused run unchanged. */
  const snapshot = (folder: string) =>
    Object.fromEntries(readdirSync(folder).map((name) => [name, readFileSync(join(folder, name))]));
  const quick = (out: string, ...extra: string[]) =>
    bdv(['convert', p('small.npy'), '-o', out, '--progress', 'none', ...extra]);

  it('an XML on its own, with or without --resume', () => {
    mkdirSync(p('registered'));
    writeFileSync(p('registered', 'out.xml'), '<SpimData>registered by hand</SpimData>');
    const before = snapshot(p('registered'));
    const plain = quick(p('registered', 'out.h5'));
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/out\.xml already exists \(pass --overwrite to replace it\)/);
    const resumed = quick(p('registered', 'out.h5'), '--resume');
    expect(resumed.status).toBe(1);
    expect(resumed.stderr).toMatch(/out\.xml is there, but no out\.checksums\.json says an earlier run/);
    expect(snapshot(p('registered'))).toEqual(before);
  });

  it('--resume keeps an XML changed since the run that wrote it (BigStitcher saved registrations)', () => {
    mkdirSync(p('stitched'));
    const out = p('stitched', 'out.h5');
    expect(quick(out).status).toBe(0);
    expect(recorded('stitched')).toMatchObject({
      complete: true,
      xmlSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const written = readFileSync(p('stitched', 'out.xml'), 'utf8');
    const stitched = written.replace('</SpimData>', '<!-- registrations --></SpimData>');
    writeFileSync(p('stitched', 'out.xml'), stitched);
    const before = snapshot(p('stitched'));
    const r = quick(out, '--resume');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /out\.xml was changed after this command wrote it .*; it is kept: move it away or pick another output \(--overwrite would replace it\)/,
    );
    expect(snapshot(p('stitched'))).toEqual(before);
    writeFileSync(p('stitched', 'out.xml'), written);
    const resumed = quick(out, '--resume');
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^kept 1 view\(s\)/);
  });

  it('--resume --layout partitioned over a single-layout file, a foreign file, or partitions nobody recorded', () => {
    mkdirSync(p('foreign'));
    expect(quick(p('foreign', 'out.h5')).status).toBe(0);
    rmSync(p('foreign', 'out.checksums.json')); // a finished dataset copied without its record
    rmSync(p('foreign', 'out.xml'));
    const partitioned = ['--layout', 'partitioned', '--resume'];
    let before = snapshot(p('foreign'));
    const overSingle = quick(p('foreign', 'out.h5'), ...partitioned);
    expect(overSingle.status).toBe(1);
    expect(overSingle.stderr).toMatch(/out\.h5 holds views of its own \(a single-layout file\)/);
    writeFileSync(p('foreign', 'out.h5'), 'not an HDF5 file');
    before = snapshot(p('foreign'));
    expect(quick(p('foreign', 'out.h5'), ...partitioned).stderr).toMatch(
      /out\.h5 is not a master this command wrote/,
    );
    expect(snapshot(p('foreign'))).toEqual(before);

    mkdirSync(p('unrecorded'));
    expect(quick(p('unrecorded', 'out.h5'), '--layout', 'partitioned').status).toBe(0);
    rmSync(p('unrecorded', 'out.checksums.json'));
    rmSync(p('unrecorded', 'out.xml'));
    rmSync(p('unrecorded', 'out.h5'));
    before = snapshot(p('unrecorded'));
    const lostRecord = quick(p('unrecorded', 'out.h5'), ...partitioned);
    expect(lostRecord.stderr).toMatch(/out-t00000-s00\.h5 is there and no out\.checksums\.json records/);
    expect(lostRecord.stderr).not.toMatch(/--overwrite to start again/);
    expect(snapshot(p('unrecorded'))).toEqual(before);
    // Without flags the same run is refused too, and leaves no master of its own behind.
    const plain = quick(p('unrecorded', 'out.h5'), '--layout', 'partitioned');
    expect(plain.stderr).toMatch(/partition .*out-t00000-s00\.h5 already exists/);
    expect(snapshot(p('unrecorded'))).toEqual(before);
  });

  it("--overwrite takes the replaced output's partitions with it, and nobody else's", () => {
    mkdirSync(p('replaced', 'in'), { recursive: true });
    for (const tile of [0, 1]) copyFileSync(p('small.npy'), p('replaced', 'in', `v${tile}.npy`));
    const out = p('replaced', 'out.h5');
    const first = bdv([
      'convert',
      p('replaced', 'in'),
      '-p',
      'v{tile}.npy',
      '-o',
      out,
      '--layout',
      'partitioned',
    ]);
    expect(first.status, first.stderr).toBe(0);
    writeFileSync(p('replaced', 'out-t00000-s07.h5'), "somebody else's file");
    // Another format, one view: the old output's second partition must not outlive it (an
    // interrupted replacement left it, and --resume refused it as nobody's).
    const again = bdv(
      ['convert', p('replaced', 'in', 'v0.npy'), '-o', out, '--layout', 'partitioned'].concat([
        '--compression',
        'gzip',
        '--overwrite',
        '--progress',
        'none',
      ]),
    );
    expect(again.status, again.stderr).toBe(0);
    expect(existsSync(p('replaced', 'out-t00000-s01.h5'))).toBe(false);
    expect(readFileSync(p('replaced', 'out-t00000-s07.h5'), 'utf8')).toBe("somebody else's file");
  });

  it('a resumed partitioned run writes again a recorded partition that no longer reads', () => {
    mkdirSync(p('cut'));
    const out = p('cut', 'out.h5');
    expect(quick(out, '--layout', 'partitioned').status).toBe(0);
    const partition = p('cut', 'out-t00000-s00.h5');
    writeFileSync(partition, readFileSync(partition).subarray(0, 1000)); // cut short (a full disk, a bad copy)
    const r = quick(out, '--layout', 'partitioned', '--resume');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote 1 view\(s\)/);
    expect(bdv(['verify', p('cut', 'out.xml')]).status).toBe(0);
  });

  it('a resumed partitioned run rewrites its own unrecorded partition, not a foreign one', () => {
    mkdirSync(p('own'));
    expect(quick(p('own', 'out.h5'), '--layout', 'partitioned').status).toBe(0);
    writeFileSync(p('own', 'out-t00000-s07.h5'), "somebody else's file");
    const before = snapshot(p('own'));
    const r = quick(p('own', 'out.h5'), '--layout', 'partitioned', '--resume');
    expect(r.stderr).toMatch(
      /out-t00000-s07\.h5 is not a partition of this conversion \(no record lists it\)/,
    );
    expect(snapshot(p('own'))).toEqual(before);
    rmSync(p('own', 'out-t00000-s07.h5'));
    // The record is told nothing of the committed partition (stopped right after its rename):
    // the partition is this run's format and view, so --resume writes it again.
    writeFileSync(
      p('own', 'out.checksums.json'),
      JSON.stringify({ ...recorded('own'), complete: false, views: [] }),
    );
    const again = quick(p('own', 'out.h5'), '--layout', 'partitioned', '--resume');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^wrote 1 view\(s\)/);
    expect(bdv(['verify', p('own', 'out.xml')]).status).toBe(0);
  });

  it('a new partitioned run beside a file named like one of its partitions is refused before it writes', () => {
    // Written around it, that file would later pass for a partition this run committed and did
    // not record yet, and --resume would overwrite it.
    mkdirSync(p('guarded'));
    writeFileSync(p('guarded', 'out-t00000-s05.h5'), "somebody else's file");
    const before = snapshot(p('guarded'));
    const r = bdv(convertArgs('partitioned', 'guarded'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/partition .*out-t00000-s05\.h5 already exists/);
    expect(snapshot(p('guarded'))).toEqual(before);
  });

  it('a run killed before its first view landed has a record already, and --resume finishes it', async () => {
    // The record exists before any partition does: a kill between a partition's rename and its
    // record line then leaves the case above (resumable), never partitions and no record.
    const run = bdvSpawn(convertArgs('partitioned', 'early'));
    const record = p('early', 'out.checksums.json');
    let atStart: { complete: boolean; views: unknown[] } | undefined;
    while (!atStart && run.child.exitCode === null) {
      if (existsSync(record)) atStart = recorded('early');
      else await new Promise((r) => setTimeout(r, 5));
    }
    run.child.kill('SIGKILL');
    await run.done;
    expect(atStart).toEqual({ ...atStart, complete: false, views: [] });
    const resumed = bdv(convertArgs('partitioned', 'early', ['--resume']));
    expect(resumed.status, resumed.stderr).toBe(0);
    expectPixelsOfInputs(p('early', 'out.h5'));
  });
});

describe('bdv convert --resume that waited for the output', () => {
  it('checks it again once it holds the fence, and refuses what changed meanwhile', async () => {
    const raced = p('raced');
    mkdirSync(raced);
    // What the first look sees: a run stopped before its first view (a record of none).
    writeFileSync(
      join(raced, 'out.checksums.json'),
      JSON.stringify({ ...recorded('partitioned-clean'), complete: false, views: [] }),
    );
    // Another process holds the output's fence, as a live conversion would ...
    // (it lets go when its input closes)
    const holder = spawn('flock', [join(raced, '.out.h5.lock'), '-c', 'echo locked; read x'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    writeFileSync(p('raced.json'), JSON.stringify(manifest('partitioned', { compression: 'none' })));
    const late = bdvSpawn([
      'convert',
      '-m',
      p('raced.json'),
      '-o',
      join(raced, 'out.h5'),
      '--resume',
      '--progress',
      'none',
    ]);
    // ... and the late --resume passed its first look and waits for the fence (it asks for it).
    while (!existsSync(join(raced, '.out.h5.want')) && late.child.exitCode === null)
      await new Promise((r) => setTimeout(r, 5));
    // Meanwhile the holder finished its conversion, gzip: the late run's options no longer fit.
    for (const name of readdirSync(p('partitioned-clean')).filter((f) => f.startsWith('out')))
      copyFileSync(p('partitioned-clean', name), join(raced, name));
    const before = Object.fromEntries(
      readdirSync(raced)
        .filter((f) => f.startsWith('out'))
        .map((f) => [f, readFileSync(join(raced, f))]),
    );
    holder.stdin.end();
    const r = await late.done;
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/its compression is gzip, this run asks for none/);
    for (const [name, bytes] of Object.entries(before))
      expect(readFileSync(join(raced, name)).equals(bytes), name).toBe(true);
  });
});

describe('bdv verify without a usable checksum file', () => {
  it('exits 1 with one line naming the missing or malformed file', () => {
    const folder = p('no-sums');
    mkdirSync(folder);
    expect(bdv(['convert', p('small.npy'), '-o', join(folder, 'x.h5'), '--progress', 'none']).status).toBe(0);
    const sums = join(folder, 'x.checksums.json');
    writeFileSync(sums, '{"format": "something else"}');
    const malformed = bdv(['verify', join(folder, 'x.xml')]);
    expect(malformed.status).toBe(1);
    expect(malformed.stderr.trim().split('\n')).toEqual([
      `bdv: error: ${sums}: not a bdv-cluster checksum file (version 1)`,
    ]);
    rmSync(sums);
    const missing = bdv(['verify', join(folder, 'x.xml')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain(`${sums}: no such file`);
  });
});
