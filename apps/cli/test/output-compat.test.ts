import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeView, resolveFormat, type BdvFileSummary, type ViewChecksums } from '@bdv-cluster/bdv';
import { ViewSpec } from '@bdv-cluster/contract';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/oracle.js';
import { removeStagedFiles } from '../src/convert/open-output.js';
import {
  layoutProblem,
  pyramidProblem,
  storedFormatProblem,
  viewProblem,
} from '../src/convert/output-compat.js';
import { isForeignFile } from '../src/convert/foreign-file.js';
import type { PlannedView } from '../src/convert/planned-view.js';

// What `bdv convert --resume` compares between the earlier run's output and this run (pure parts).

const options = {
  setup: { channels: 2 },
  subsamplingZyx: [
    [1, 1, 1],
    [2, 2, 2],
  ],
  blockSizeZyx: [[4, 32, 32]],
  compression: 'gzip' as const,
};
const format = resolveFormat(options);
const SHAPE = [10, 40, 30];

function planned(channel: number, extra: Record<string, unknown> = {}): PlannedView {
  const spec = ViewSpec.parse({ channel, source: { uri: `c${channel}.npy` }, ...extra });
  return { spec, key: `t0-i0-c${channel}-s0-a0`, path: '', options: {}, bytes: 0, shapeZyx: SHAPE };
}

function recordOf(view: PlannedView, file = 'out.h5'): ViewChecksums {
  const record = describeView(format.setup, view.spec, view.shapeZyx);
  return {
    time: 0,
    setupId: record.setupId,
    file,
    record,
    levels: [
      { level: 0, shapeZyx: [10, 40, 30], crc32: '00000000' },
      { level: 1, shapeZyx: [5, 20, 15], crc32: '00000000' },
    ],
  };
}

function summary(overrides: Partial<BdvFileSummary> = {}, filters = ['gzip']): BdvFileSummary {
  return {
    path: 'out.h5',
    setups: [0, 1].map((id) => ({
      id,
      resolutionsXyz: [
        [1, 1, 1],
        [2, 2, 2],
      ],
      subdivisionsXyz: [
        [32, 32, 4],
        [32, 32, 4],
      ],
    })),
    views: [
      {
        time: 0,
        setupId: 0,
        levels: [{ level: 0, shapeZyx: SHAPE, chunksZyx: [4, 32, 32], filters }],
      },
    ],
    ...overrides,
  };
}

describe('layoutProblem', () => {
  it('reads the earlier layout from the files the checksum record names', () => {
    const single = [recordOf(planned(0))];
    const partitioned = [recordOf(planned(0), 'out-t00000-s00.h5')];
    expect(layoutProblem('/x/out.h5', 'single', single)).toBeUndefined();
    expect(layoutProblem('/x/out.h5', 'partitioned', partitioned)).toBeUndefined();
    expect(layoutProblem('/x/out.h5', 'partitioned', single)).toMatch(
      /earlier run wrote the single layout, this run asks for partitioned/,
    );
    expect(layoutProblem('/x/out.h5', 'single', partitioned)).toMatch(/wrote the partitioned layout/);
    expect(layoutProblem('/x/renamed.h5', 'single', single)).toMatch(
      /puts view t0 setup 0 in out\.h5.*renamed/,
    );
    expect(layoutProblem('/x/out.h5', 'partitioned', [])).toBeUndefined();
  });
});

describe('viewProblem', () => {
  const earlier = [recordOf(planned(0)), recordOf(planned(1))];
  it('accepts the same views, and more', () => {
    expect(viewProblem(format, [planned(0), planned(1)], earlier)).toBeUndefined();
    expect(viewProblem(format, [planned(0), planned(1), planned(0, { time: 1 })], earlier)).toBeUndefined();
  });
  it('names a view the run no longer lists, or the first field it describes differently', () => {
    expect(viewProblem(format, [planned(1)], earlier)).toMatch(
      /holds view t0 setup 0, which this run does not list/,
    );
    expect(viewProblem(format, [planned(0), planned(1, { voxelSizeXyz: [1, 1, 2] })], earlier)).toBe(
      'view t0-i0-c1-s0-a0: voxelSizeXyz was [1,1,1], this run has [1,1,2]',
    );
    expect(
      viewProblem(
        format,
        [planned(0, { affine: [1, 0, 0, 5, 0, 1, 0, 0, 0, 0, 1, 0] }), planned(1)],
        earlier,
      ),
    ).toMatch(/affine was unset, this run has \[1,0,0,5/);
    const bigger = { ...planned(0), shapeZyx: [11, 40, 30] };
    expect(viewProblem(format, [bigger, planned(1)], earlier)).toMatch(
      /shapeZyx was \[10,40,30\], this run has \[11,40,30\]/,
    );
  });
});

describe('pyramidProblem', () => {
  it('compares the recorded level shapes with what this run would compute', () => {
    const earlier = [recordOf(planned(0))];
    expect(pyramidProblem(format, earlier)).toBeUndefined();
    const other = resolveFormat({
      ...options,
      subsamplingZyx: [
        [1, 1, 1],
        [1, 2, 2],
      ],
    });
    expect(pyramidProblem(other, earlier)).toMatch(/levels 10,40,30:5,20,15 .* gives 10,40,30:10,20,15/);
    expect(pyramidProblem(resolveFormat({ ...options, subsamplingZyx: [[1, 1, 1]] }), earlier)).toBeDefined();
  });
});

describe('storedFormatProblem', () => {
  it('accepts the file this format writes (the gzip level aside)', () => {
    expect(storedFormatProblem(summary(), format, true)).toBeUndefined();
    expect(
      storedFormatProblem(summary(), resolveFormat({ ...options, compressionLevel: 9 }), true),
    ).toBeUndefined();
  });
  it('names setups, subsampling, blocks and compression that differ', () => {
    expect(storedFormatProblem(summary(), resolveFormat({ ...options, setup: { channels: 3 } }), true)).toBe(
      'it has 2 setup(s), this run has 3',
    );
    expect(storedFormatProblem(summary({ setups: [summary().setups[0]!] }), format, false)).toBeUndefined();
    // An HDF5 file of somebody else's (h5py's, no BDV setup) is said to be that, not "0 setups".
    const foreign = storedFormatProblem(summary({ setups: [], views: [] }), format, true)!;
    expect(foreign).toMatch(/holds no BDV setup \(no sNN\/resolutions\): not an output of this command$/);
    // ...and marked as somebody else's file: its refusal advises keeping it, not --overwrite.
    expect(isForeignFile(foreign)).toBe(true);
    expect(
      isForeignFile(storedFormatProblem(summary(), resolveFormat({ ...options, compression: 'lzf' }), true)!),
    ).toBe(false);
    expect(
      storedFormatProblem(
        summary(),
        resolveFormat({
          ...options,
          subsamplingZyx: [
            [1, 1, 1],
            [1, 2, 2],
          ],
        }),
        true,
      ),
    ).toBe('its subsampling (z,y,x) is 1,1,1:2,2,2, this run asks for 1,1,1:1,2,2');
    expect(
      storedFormatProblem(summary(), resolveFormat({ ...options, blockSizeZyx: [[8, 32, 32]] }), true),
    ).toBe('its blocks (z,y,x) are 4,32,32:4,32,32, this run asks for 8,32,32:8,32,32');
    expect(storedFormatProblem(summary(), resolveFormat({ ...options, compression: 'lzf' }), true)).toBe(
      'its compression is gzip, this run asks for lzf',
    );
    expect(storedFormatProblem(summary({}, []), format, true)).toBe(
      'its compression is none, this run asks for gzip',
    );
  });
});

describe('removeStagedFiles', () => {
  const dir = tempDir('bdv-staged-');
  afterAll(() => dir.remove());
  it("removes only this output's temporary files", () => {
    const folder = join(dir.path, 'o');
    mkdirSync(folder);
    const leftovers = [
      '.out-t00000-s03.h5.ad64e7dd.tmp',
      '.out.h5.1234-lq3x9a.tmp',
      'out.checksums.json.4321.tmp',
      'out.xml.4321.tmp',
    ];
    const kept = [
      'out.h5',
      'out-t00000-s03.h5',
      'out.checksums.json',
      '.out.h5.lock',
      '.other-t00000-s00.h5.ad64e7dd.tmp',
      '.outer.h5.1-a.tmp',
      'notes.tmp',
    ];
    for (const name of [...leftovers, ...kept]) writeFileSync(join(folder, name), '');
    removeStagedFiles(join(folder, 'out.h5'));
    expect(readdirSync(folder).sort()).toEqual([...kept].sort());
  });
});
