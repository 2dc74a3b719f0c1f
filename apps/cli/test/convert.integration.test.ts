import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  child,
  children,
  comparePixels,
  describeBdv,
  makeStacks,
  numbers,
  tempDir,
} from '../../../test/support/oracle.js';
import { bdv, bdvSpawn } from './cli-run.js';

const dir = tempDir('bdv-cli-');
const p = (name: string) => join(dir.path, name);
afterAll(() => dir.remove());

const SUBSAMPLING = [
  [1, 1, 1],
  [2, 2, 2],
  [4, 4, 4],
];
const present: { time: number; channel: number; tile: number; shape: number[] }[] = [];
for (const time of [0, 1])
  for (const channel of [0, 1])
    for (const tile of [0, 1]) {
      if (time === 1 && channel === 0 && tile === 1) continue; // a gap -> MissingView
      present.push({ time, channel, tile, shape: tile === 0 ? [13, 70, 45] : [9, 33, 80] });
    }

beforeAll(() => {
  makeStacks(dir.path, [
    ...present.map((v, i) => ({
      path: p(`t${v.time}_c${v.channel}_s${v.tile}.npy`),
      shape: v.shape,
      seed: i,
    })),
    ...[0, 1].map((tile) => ({
      path: p(`raw_s${tile}.raw`),
      shape: [5, 20, 30],
      seed: 50 + tile,
      format: 'raw' as const,
    })),
    ...[0, 1].map((angle) => ({
      path: p(`tif_a${angle}.tif`),
      shape: [6, 24, 18],
      seed: 60 + angle,
      format: 'tiff' as const,
    })),
    { path: p('float.npy'), shape: [4, 8, 8], seed: 70, dtype: '<f4' },
  ]);
});

function manifest(extra: Record<string, unknown> = {}) {
  return {
    dataset: {
      name: 'cli-case',
      setup: { channels: 2, tiles: 2 },
      compression: 'gzip',
      subsamplingZyx: SUBSAMPLING,
      blockSizeZyx: [
        [4, 32, 32],
        [2, 32, 32],
        [1, 16, 16],
      ],
      attributeLabels: { tile: ['left', 'right'] },
      microscope: { name: 'scope', version: '2', user: 'me' },
      ...extra,
    },
    views: present.map((v) => ({
      time: v.time,
      channel: v.channel,
      tile: v.tile,
      source: { uri: `t${v.time}_c${v.channel}_s${v.tile}.npy` },
      voxelSizeXyz: [0.4, 0.4, 1 + v.tile],
      voxelUnits: 'um',
      affine: [1, 0, 0, 40 * v.tile, 0, 1, 0, 0, 0, 0, 1, 0],
    })),
  };
}

describe('bdv convert --manifest', () => {
  it("refuses the quick form's flags, by the names typed, instead of dropping them", () => {
    writeFileSync(p('m-flags.json'), JSON.stringify(manifest()));
    const run = (...flags: string[]) =>
      bdv(['convert', '-m', p('m-flags.json'), '-o', p('flags.h5'), ...flags]);
    const one = run('--unit', 'nm');
    expect(one.status).toBe(1);
    expect(one.stderr).toMatch(
      /--unit applies to the quick form \(input files and flags\); with --manifest, put it in the manifest/,
    );
    const many = run(
      '--voxel-size',
      '1,1,1',
      '--channels',
      '5',
      '--labels',
      'channel=a',
      '--microscope',
      'scope',
    );
    expect(many.status).toBe(1);
    expect(many.stderr).toMatch(/--voxel-size, --channels, --labels, --microscope apply to the quick form/);
    expect(existsSync(p('flags.h5'))).toBe(false);
  });

  it('reads a manifest saved with a byte order mark (as Windows editors save it)', () => {
    writeFileSync(p('m-bom.json'), `\ufeff${JSON.stringify(manifest())}`);
    const r = bdv(['convert', '-m', p('m-bom.json'), '-o', p('bom.h5'), '--progress', 'none']);
    expect(r.status, r.stderr).toBe(0);
  });

  it('writes every level and the XML as the spec says', () => {
    writeFileSync(p('m.json'), JSON.stringify(manifest()));
    const r = bdv(['convert', '--manifest', p('m.json'), '-o', p('out.h5')]);
    expect(r.stderr).toContain('[7/7]');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`HDF5: ${p('out.h5')}`);
    expect(r.stdout).toContain(`XML:  ${p('out.xml')}`);
    expect(r.stdout).toContain('1 missing view(s) listed in the XML (t1-i0-c0-s1-a0)');
    // 7 gzip views in one file: the summary points at the layout that uses every core.
    const tip =
      /tip: gzip views in one file compress on one core; "layout": "partitioned" in the manifest's dataset/;
    if (availableParallelism() > 1) expect(r.stdout).toMatch(tip);

    const views = present.map((v) => ({
      time: v.time,
      setup: v.channel * 2 + v.tile,
      npy: p(`t${v.time}_c${v.channel}_s${v.tile}.npy`),
    }));
    for (const view of comparePixels({ h5: p('out.h5'), subsampling_zyx: SUBSAMPLING, views })) {
      for (const level of view.levels) {
        expect(level.shape).toEqual(level.expected_shape);
        expect(level.mismatches).toBe(0);
      }
    }
    const d = describeBdv(p('out.h5'), p('out.xml'));
    expect(d.h5.datasets['t00000/s01/1/cells']).toMatchObject({
      shape: [5, 17, 40],
      chunks: [2, 32, 32],
      compression: 'gzip',
    });
    const seq = child(d.xml!, 'SequenceDescription');
    expect(children(child(seq, 'MissingViews'), 'MissingView').map((m) => m.attrib)).toEqual([
      { timepoint: '1', setup: '1' },
    ]);
    const setups = children(child(seq, 'ViewSetups'), 'ViewSetup');
    expect(numbers(child(child(setups[1]!, 'voxelSize'), 'size').text)).toEqual([0.4, 0.4, 2]);
    const tiles = children(child(seq, 'ViewSetups'), 'Attributes').find((a) => a.attrib.name === 'tile')!;
    expect(children(tiles, 'Tile').map((t) => child(t, 'name').text)).toEqual(['left', 'right']);
    const reg = children(child(d.xml!, 'ViewRegistrations'), 'ViewRegistration').find(
      (r) => r.attrib.setup === '3' && r.attrib.timepoint === '1',
    )!;
    expect(numbers(child(children(reg, 'ViewTransform')[0]!, 'affine').text)).toEqual([
      1, 0, 0, 40, 0, 1, 0, 0, 0, 0, 1, 0,
    ]);
  });

  it('never overwrites without --overwrite, and does with it', () => {
    writeFileSync(p('m2.json'), JSON.stringify(manifest()));
    expect(bdv(['convert', '-m', p('m2.json'), '-o', p('twice.h5')]).status).toBe(0);
    const again = bdv(['convert', '-m', p('m2.json'), '-o', p('twice.h5')]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/twice\.h5 already exists \(pass --overwrite/);
    expect(
      bdv(['convert', '-m', p('m2.json'), '-o', p('twice.h5'), '--overwrite', '--progress', 'none']).status,
    ).toBe(0);
  });
});

describe('bdv convert (quick form)', () => {
  it('reads raw files with a pattern, shape and options', () => {
    const r = bdv([
      'convert',
      dir.path,
      '-o',
      p('raw.h5'),
      '-p',
      'raw_s{tile}.raw',
      '--shape',
      '5,20,30',
      '--subsampling',
      '1,1,1:1,4,4',
      '--voxel-size',
      '0.5,0.5,3',
      '--unit',
      'um',
    ]);
    // The folder's other stacks (.npy, .tif) are named as not converted, before anything is written.
    expect(r.stderr).toMatch(
      /^bdv: \d+ stack file\(s\) in the input folder\(s\) do not match --pattern 'raw_s\{tile\}\.raw' and are not converted: 'float\.npy', 't0_c0_s0\.npy', .*\nconverting 2 view\(s\), 0\.0 MB\n\[1\/2\] t0-i0-c0-s0-a0/,
    );
    expect(r.status).toBe(0);
    const views = [0, 1].map((tile) => ({
      time: 0,
      setup: tile,
      raw: { path: p(`raw_s${tile}.raw`), shape: [5, 20, 30], dtype: '<u2' },
    }));
    for (const view of comparePixels({
      h5: p('raw.h5'),
      subsampling_zyx: [
        [1, 1, 1],
        [1, 4, 4],
      ],
      views,
    })) {
      for (const level of view.levels) expect(level.mismatches).toBe(0);
    }
  });

  it('walks sub-folders a pattern names, and {field-N} counts from N', () => {
    // An acquisition saved as one folder per timepoint, numbered from 1 as microscopes do.
    for (const [time, channel, tile] of [
      [1, 1, 0],
      [1, 2, 1],
      [2, 1, 1],
      [2, 2, 0],
    ]) {
      mkdirSync(p(`nest/t${time}`), { recursive: true });
      copyFileSync(p(`raw_s${tile}.raw`), p(`nest/t${time}/ch${channel}.raw`));
    }
    // Not walked: a hidden folder, and anything deeper than the pattern's folders.
    mkdirSync(p('nest/.snapshot/t1'), { recursive: true });
    copyFileSync(p('raw_s0.raw'), p('nest/.snapshot/t1/ch1.raw'));
    mkdirSync(p('nest/t1/old'), { recursive: true });
    copyFileSync(p('raw_s0.raw'), p('nest/t1/old/ch1.raw'));
    // A folder named like a stack is no stack: passed over, not refused.
    mkdirSync(p('nest/t2/ch9.raw'), { recursive: true });
    const r = bdv([
      'convert',
      p('nest'),
      '-o',
      p('nest.h5'),
      '-p',
      't{time-1}/ch{channel-1}.raw',
      '--shape',
      '5,20,30',
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/no file has/);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ views: 4, missingViews: 0 });
    const views = [
      [0, 0, 0],
      [0, 1, 1],
      [1, 0, 1],
      [1, 1, 0],
    ].map(([time, setup, tile]) => ({
      time,
      setup,
      raw: { path: p(`raw_s${tile}.raw`), shape: [5, 20, 30], dtype: '<u2' },
    }));
    for (const view of comparePixels({ h5: p('nest.h5'), subsampling_zyx: [[1, 1, 1]], views }))
      for (const level of view.levels) expect(level.mismatches).toBe(0);

    // Without the offsets, the empty index 0 of each field is said before anything is written.
    const plain = bdv([
      'convert',
      p('nest'),
      '-o',
      p('nest0.h5'),
      '-p',
      't{time}/ch{channel}.raw',
      '--shape',
      '5,20,30',
    ]);
    expect(plain.status).toBe(0);
    expect(plain.stderr).toMatch(
      /^bdv: no file has time 0 \(the first is 1\): time 0 is listed as missing views; if the names count from 1, write \{time-1\} in --pattern\nbdv: no file has channel 0 \(the first is 1\)/,
    );
    expect(plain.stdout).toMatch(/wrote 4 view\(s\).*5 missing view\(s\)/);
    // With an offset already in the pattern, the advice is in the names' numbers.
    mkdirSync(p('nest2/t1'), { recursive: true });
    copyFileSync(p('raw_s0.raw'), p('nest2/t1/ch3.raw'));
    const offset = bdv([
      'convert',
      p('nest2'),
      '-o',
      p('nest2.h5'),
      '-p',
      't{time-1}/ch{channel-1}.raw',
      '--shape',
      '5,20,30',
    ]);
    expect(offset.stderr).toContain(
      'bdv: no file has channel 0 (the first is 2): channel 0-1 are listed as missing views; if the names count from 3, write {channel-3} in --pattern',
    );
  });

  it('reads multi-page TIFFs as angles', () => {
    const r = bdv([
      'convert',
      p('tif_a0.tif'),
      p('tif_a1.tif'),
      '-o',
      p('tif.h5'),
      '-p',
      'tif_a{angle}.tif',
      '--compression',
      'lzf',
      '--json',
    ]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ views: 2, missingViews: 0, h5: p('tif.h5') });
    const d = describeBdv(p('tif.h5'));
    expect(d.h5.datasets['t00000/s01/0/cells']).toMatchObject({ shape: [6, 24, 18], compression: 'lzf' });
  });
});

describe('bdv convert --jobs (partitioned, worker threads)', () => {
  it('writes the same pixels and XML as one thread, one partition per view', () => {
    writeFileSync(p('mj.json'), JSON.stringify(manifest({ layout: 'partitioned' })));
    const parallel = bdv([
      'convert',
      '-m',
      p('mj.json'),
      '-o',
      p('jobs.h5'),
      '--jobs',
      '3',
      '--progress',
      'lines',
    ]);
    expect(parallel.status, parallel.stderr).toBe(0);
    expect(parallel.stderr).toContain('[7/7]');
    expect(parallel.stdout).not.toContain('tip:');
    const views = present.map((v) => ({
      time: v.time,
      setup: v.channel * 2 + v.tile,
      npy: p(`t${v.time}_c${v.channel}_s${v.tile}.npy`),
    }));
    for (const view of comparePixels({ h5: p('jobs.h5'), subsampling_zyx: SUBSAMPLING, views })) {
      for (const level of view.levels) expect(level.mismatches).toBe(0);
    }
    const d = describeBdv(p('jobs.h5'), p('jobs.xml'));
    expect(d.h5.datasets['t00001/s03/2/cells']!.external).toBe('jobs-t00001-s03.h5');
    const loader = child(child(d.xml!, 'SequenceDescription'), 'ImageLoader');
    expect(children(loader, 'partition')).toHaveLength(7);
    const single = bdv(['convert', '-m', p('mj.json'), '-o', p('jobs-single.h5'), '--progress', 'none']);
    expect(single.status).toBe(0);
    const registrations = (x: string) =>
      children(child(describeBdv(p(`${x}.h5`), p(`${x}.xml`)).xml!, 'ViewRegistrations'), 'ViewRegistration');
    expect(JSON.stringify(registrations('jobs'))).toBe(JSON.stringify(registrations('jobs-single')));
    writeFileSync(p('mj-single.json'), JSON.stringify(manifest()));
    const refused = bdv(['convert', '-m', p('mj-single.json'), '-o', p('jobs-bad.h5'), '--jobs', '2']);
    expect(refused.stderr).toMatch(/--jobs 2 .* needs --layout partitioned/);
  });
});

describe('progress on a terminal', () => {
  it('draws a bar with bytes and views when stderr is a TTY', () => {
    // util-linux `script` gives the CLI a pseudo-terminal, as a person's shell would.
    const cmd = `${process.execPath} ${join(import.meta.dirname, '..', 'bin', 'bdv.js')} convert ${p('raw_s0.raw')} ${p('raw_s1.raw')} -o ${p('tty.h5')} -p 'raw_s{tile}.raw' --shape 5,20,30`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const escape = String.fromCharCode(27);
    const screen = r.stdout.replace(new RegExp(`${escape}\\[[0-9;?]*[A-Za-z]`, 'g'), '');
    expect(screen).toMatch(/100% \| 0\/0 MB \| views 2\/2 \|/);
    expect(screen).toContain(`HDF5: ${p('tty.h5')}`);
  });
});

describe('bad input: one clear line, exit 1, no output written', () => {
  const cases: [string, () => string[], RegExp][] = [
    [
      'wrong dtype',
      () => ['convert', p('float.npy'), '-o', p('bad1.h5')],
      /float\.npy: dtype '<f4' is not uint16/,
    ],
    [
      'declared shape mismatch',
      () => ['convert', p('raw_s0.raw'), '-o', p('bad2.h5'), '--shape', '5,20,31'],
      /raw_s0\.raw: has 6000 bytes, expected 6200/,
    ],
    ['missing file', () => ['convert', p('nope.npy'), '-o', p('bad3.h5')], /nope\.npy: no such file/],
    [
      'non-matching file',
      () => ['convert', p('raw_s0.raw'), '-o', p('bad4.h5'), '-p', 't{time}.npy'],
      /raw_s0\.raw: does not match --pattern/,
    ],
    [
      'bad subsampling',
      () => ['convert', p('raw_s0.raw'), '-o', p('bad5.h5'), '--shape', '5,20,30', '--subsampling', '1,1'],
      /--subsampling: expected 3 integers/,
    ],
    [
      'object-store URI',
      () => {
        writeFileSync(
          p('s3.json'),
          JSON.stringify({ dataset: { name: 'x' }, views: [{ source: { uri: 's3://raw/x.npy' } }] }),
        );
        return ['convert', '-m', p('s3.json'), '-o', p('bad6.h5')];
      },
      /views\[0\]\.source\.uri: s3:\/\/raw\/x\.npy is not a local file/,
    ],
    [
      'malformed JSON',
      () => {
        writeFileSync(p('broken.json'), '{"dataset": ');
        return ['convert', '-m', p('broken.json'), '-o', p('bad7.h5')];
      },
      /broken\.json: .*JSON/,
    ],
    [
      'JSON that is not an object',
      () => {
        writeFileSync(p('null.json'), 'null');
        return ['convert', '-m', p('null.json'), '-o', p('bad9.h5')];
      },
      /null\.json: a manifest is a JSON object \{"dataset": …, "views": \[…\]\}, not null/,
    ],
    [
      'a folder as the manifest',
      () => {
        mkdirSync(p('folder.json'), { recursive: true });
        return ['convert', '-m', p('folder.json'), '-o', p('bad10.h5')];
      },
      /folder\.json: is a folder, not a manifest file$/m,
    ],
    [
      'a stack as the manifest',
      () => ['convert', '-m', p('t0_c0_s0.npy'), '-o', p('bad11.h5')],
      /t0_c0_s0\.npy: not a manifest \(binary content, not JSON text\)$/m,
    ],
    [
      'a pattern naming sub-folders the folder does not have',
      () => ['convert', dir.path, '-o', p('bad12.h5'), '-p', 'x{time}/c{channel}.npy'],
      /bdv-cli-\w+: no \.npy\/.* files 1 folder\(s\) deep, as --pattern 'x\{time\}\/c\{channel\}\.npy' has them$/m,
    ],
    [
      'a pattern naming sub-folders, given a file',
      () => ['convert', p('raw_s0.raw'), '-o', p('bad12.h5'), '-p', 't{time}/c{channel}.raw'],
      /raw_s0\.raw: --pattern 't\{time\}\/c\{channel\}\.raw' names folders, so give the folder that holds them \(not a file\)$/m,
    ],
    [
      'a pattern climbing out of the folder',
      () => ['convert', dir.path, '-o', p('bad12.h5'), '-p', '../t{time}.raw'],
      /--pattern '\.\.\/t\{time\}\.raw': folders in a pattern are relative to the folder given/,
    ],
    [
      'an output not ending in .h5, where an .xml of its name is',
      () => {
        writeFileSync(p('noext.xml'), '<SpimData/>');
        return ['convert', p('t0_c0_s0.npy'), '-o', p('noext')];
      },
      /noext: the output must end in \.h5 \(the \.xml goes beside it\), e\.g\. -o \S*noext\.h5$/m,
    ],
    [
      'raw input without --shape',
      () => ['convert', p('raw_s0.raw'), '-o', p('bad13.h5')],
      /raw_s0\.raw: raw input needs --shape z,y,x \(and --dtype, --byte-order, --header-bytes where/,
    ],
    [
      'a file whose name tells no format',
      () => {
        copyFileSync(p('raw_s0.raw'), p('stack.dat'));
        return ['convert', p('stack.dat'), '-o', p('bad14.h5')];
      },
      /stack\.dat: cannot tell the format from the name: give --format npy, raw or tiff$/m,
    ],
    [
      'a block too large, named by option, level and axis',
      () => [
        ...['convert', p('raw_s0.raw'), '-o', p('bad15.h5'), '--shape', '5,20,30'],
        ...['--subsampling', '1,1,1:1,2,2', '--block', '4,16,16:2,99999,8'],
      ],
      /--block \(level 1, y\): Too big/,
    ],
    [
      'out-of-range index',
      () => {
        writeFileSync(
          p('range.json'),
          JSON.stringify({
            dataset: { name: 'x', setup: { channels: 2 } },
            views: [{ channel: 5, source: { uri: 't0_c0_s0.npy' } }],
          }),
        );
        return ['convert', '-m', p('range.json'), '-o', p('bad8.h5')];
      },
      /views\[0\]\.channel: 5 is out of range: the dataset has 2 channels/,
    ],
    [
      'duplicate view',
      () => {
        writeFileSync(
          p('dup.json'),
          JSON.stringify({
            dataset: { name: 'x' },
            views: [{ source: { uri: 't0_c0_s0.npy' } }, { source: { uri: 't0_c1_s0.npy' } }],
          }),
        );
        return ['convert', '-m', p('dup.json'), '-o', p('bad9.h5')];
      },
      /views\[1\]: duplicate view t0-i0-c0-s0-a0/,
    ],
    [
      'bad dataset name',
      () => {
        writeFileSync(
          p('name.json'),
          JSON.stringify({ dataset: { name: '../up' }, views: [{ source: { uri: 't0_c0_s0.npy' } }] }),
        );
        return ['convert', '-m', p('name.json'), '-o', p('bad10.h5')];
      },
      /dataset\.name: must be 1-128 characters/,
    ],
  ];

  it.each(cases)('%s', (_label, args, message) => {
    const argv = args();
    const r = bdv(argv);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    const output = argv[argv.indexOf('-o') + 1]!;
    expect(existsSync(output)).toBe(false);
  });
});

describe('bdv demo and info', () => {
  it('converts the synthetic acquisition and describes it', () => {
    const r = bdv(['demo', '--dir', p('demo'), '--progress', 'none']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`HDF5:     ${p('demo/demo.h5')}`);
    // A next command that runs from where this one was started (`npx bdv` only under npm).
    expect(r.stdout).toMatch(/inspect with: (\/\S*bin\/bdv|node \S*bin\/bdv\.js) info \//);
    const info = bdv(['info', p('demo/demo.h5')]);
    expect(info.status).toBe(0);
    expect(info.stdout).toContain('views: 8 over 2 timepoint(s)');
    expect(info.stdout).toContain('t1 s3: 48x256x256 | 24x128x128 | 12x64x64');
    // The wrong file gets one line naming it, not HDF5's error stack.
    const notHdf5 = bdv(['info', p('demo/manifest.json')]);
    expect([notHdf5.status, notHdf5.stderr]).toEqual([
      1,
      `bdv: error: ${p('demo/manifest.json')} is not an HDF5 file\n`,
    ]);
    expect(bdv(['info', p('demo/demo.xml')]).stderr).toMatch(/demo\.xml: give the \.h5 \(bdv info reads/);
    expect(bdv(['demo', '--dir', p('demo')]).stderr).toMatch(/holds an earlier demo \(pass --overwrite/);
    expect(bdv(['--help']).stdout).toMatch(/convert[\s\S]*demo[\s\S]*info/);
    // Its inode may be reused by the new file: the pair with the write time tells them apart.
    const stamp = () => {
      const st = statSync(p('demo/demo.h5'));
      return [st.ino, st.mtimeMs];
    };
    const before = stamp();
    // Through a link to it, as a person keeping demos elsewhere would: replaced where it is.
    symlinkSync(p('demo'), p('demo-link'));
    const again = bdv(['demo', '--dir', p('demo-link'), '--overwrite', '--progress', 'none']);
    expect(again.stderr).toBe('');
    expect(stamp()).not.toEqual(before);
    expect(lstatSync(p('demo-link')).isSymbolicLink()).toBe(true);
  });

  it('suggests the next command as it was typed: `bdv` where PATH finds the launcher', () => {
    const bin = join(import.meta.dirname, '..', 'bin');
    const r = spawnSync(join(bin, 'bdv'), ['demo', '--dir', p('demo-path'), '--progress', 'none'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, npm_lifecycle_event: '' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`inspect with: bdv info ${p('demo-path/demo.h5')}`);
  });

  it('replaces only a folder an earlier demo made, and leaves any other untouched', () => {
    const folder = p('not-a-demo');
    mkdirSync(join(folder, 'raw'), { recursive: true });
    writeFileSync(join(folder, 'raw', 't0_c0_s0.npy'), 'acquired');
    writeFileSync(join(folder, 'notes.txt'), 'keep');
    const foreign = bdv(['demo', '--dir', folder, '--overwrite']);
    expect(foreign.status).not.toBe(0);
    expect(foreign.stderr).toMatch(/holds 1 file\(s\) a demo does not make \(notes\.txt\): not replaced/);
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ dataset: { name: 'acquisition' } }));
    writeFileSync(join(folder, 'notes.txt'), 'keep');
    expect(bdv(['demo', '--dir', folder, '--overwrite']).stderr).toMatch(/notes\.txt/);
    rmSync(join(folder, 'notes.txt'));
    expect(bdv(['demo', '--dir', folder, '--overwrite']).stderr).toMatch(
      /has no demo manifest\.json: not replaced/,
    );
    expect(readFileSync(join(folder, 'raw', 't0_c0_s0.npy'), 'utf8')).toBe('acquired');
    writeFileSync(p('a-file'), 'keep');
    expect(bdv(['demo', '--dir', p('a-file'), '--overwrite']).stderr).toMatch(
      /is not a folder: pick another --dir/,
    );
    // Without --overwrite the same reasons, never a hint to pass --overwrite that would be refused.
    for (const [dir, reason] of [
      [p('a-file'), /a-file is not a folder: pick another --dir$/m],
      [folder, /has no demo manifest\.json: not replaced; pick another --dir/],
    ] as const) {
      const r = bdv(['demo', '--dir', dir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(reason);
      expect(r.stderr).not.toMatch(/--overwrite/);
    }
    expect(readFileSync(p('a-file'), 'utf8')).toBe('keep');
    // An empty folder made for it needs no --overwrite.
    mkdirSync(p('empty-for-demo'));
    const intoEmpty = bdv(['demo', '--dir', p('empty-for-demo'), '--progress', 'none']);
    expect(intoEmpty.status, intoEmpty.stderr).toBe(0);
  });

  it('a demo killed while it renders its inputs is replaced by the next --overwrite', async () => {
    const folder = p('cut-demo');
    const run = bdvSpawn(['demo', '--dir', folder, '--progress', 'none']);
    // The manifest marks the folder as a demo's: it must be there before the inputs are.
    let inputsAtManifest = -1;
    while (inputsAtManifest < 0 && run.child.exitCode === null) {
      const raw = join(folder, 'raw');
      if (existsSync(join(folder, 'manifest.json')))
        inputsAtManifest = existsSync(raw) ? readdirSync(raw).filter((f) => f.endsWith('.npy')).length : 0;
      else await new Promise((r) => setTimeout(r, 5));
    }
    run.child.kill('SIGKILL');
    await run.done;
    expect(inputsAtManifest).toBeGreaterThanOrEqual(0);
    expect(inputsAtManifest).toBeLessThan(8);
    const again = bdv(['demo', '--dir', folder, '--overwrite', '--progress', 'none']);
    expect(again.status, again.stderr).toBe(0);
    expect(bdv(['verify', join(folder, 'demo.xml')]).status).toBe(0);
  });
});
