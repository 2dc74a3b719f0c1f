import { describe, expect, it } from 'vitest';
import {
  BatchSpec,
  ClusterManifest,
  compileFilenamePattern,
  DatasetSpec,
  describeProblems,
  fieldProblems,
  inferLayout,
  Manifest,
  parseViewKey,
  viewKeyOf,
} from '../src/index.js';

describe('filename patterns', () => {
  it('extracts named fields and defaults the others to 0', () => {
    const p = compileFilenamePattern('t{time}_c{channel}_s{tile}.npy');
    expect(p.match('t12_c1_s3.npy')).toEqual({ time: 12, illumination: 0, channel: 1, tile: 3, angle: 0 });
    expect(p.match('t12_c1_s3.npyx')).toBeUndefined();
    expect(p.match('t1_c1_s3_npy')).toBeUndefined(); // the dot is literal
    expect(compileFilenamePattern('*_a{angle}.tif').match('scan 5_a2.tif')).toMatchObject({ angle: 2 });
  });

  it('rejects unknown and repeated fields', () => {
    expect(() => compileFilenamePattern('t{tiem}.npy')).toThrow(/unknown field \{tiem\}/);
    expect(() => compileFilenamePattern('{time}_{time}.npy')).toThrow(/twice/);
    expect(() => compileFilenamePattern('stack.npy')).toThrow(/at least one field/);
  });

  it('infers counts as max + 1 even with gaps', () => {
    const v = (time: number, channel: number) => ({ time, illumination: 0, channel, tile: 0, angle: 0 });
    expect(inferLayout([v(0, 0), v(3, 1)])).toEqual({
      setup: { illuminations: 1, channels: 2, tiles: 1, angles: 1 },
      timepoints: 4,
    });
  });
});

describe('request schemas', () => {
  it('applies npy2bdv defaults', () => {
    const d = DatasetSpec.parse({ name: 'a' });
    expect(d).toMatchObject({
      compression: 'none',
      subsamplingZyx: [[1, 1, 1]],
      blockSizeZyx: [[4, 256, 256]],
    });
    expect(d.setup).toEqual({ illuminations: 1, channels: 1, tiles: 1, angles: 1 });
  });

  it('defaults the layout to one file per view on the cluster and to one file in bdv convert', () => {
    const view = { source: { uri: 'a.npy' } };
    expect(DatasetSpec.parse({ name: 'a' }).layout).toBe('partitioned');
    expect(ClusterManifest.parse({ dataset: { name: 'a' }, views: [view] }).dataset.layout).toBe(
      'partitioned',
    );
    expect(
      BatchSpec.parse({ source: 's3://raw/x/', pattern: 't{time}.npy', dataset: { name: 'a' } }).dataset
        .layout,
    ).toBe('partitioned');
    expect(Manifest.parse({ dataset: { name: 'a' }, views: [view] }).dataset.layout).toBe('single');
    // a layout given is kept either way
    expect(DatasetSpec.parse({ name: 'a', layout: 'single' }).layout).toBe('single');
    expect(
      Manifest.parse({ dataset: { name: 'a', layout: 'partitioned' }, views: [view] }).dataset.layout,
    ).toBe('partitioned');
  });

  it('names every bad field', () => {
    const r = DatasetSpec.safeParse({
      name: '../etc',
      compression: 'zip',
      compressionLevel: 3,
      subsamplingZyx: [[1, 0, 1]],
      extra: 1,
    });
    expect(r.success).toBe(false);
    const fields = fieldProblems(r.error!).map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'compression', 'subsamplingZyx[0][1]', '(body)']));
  });

  it('checks views against the dataset and finds duplicates', () => {
    const r = Manifest.safeParse({
      dataset: { name: 'x', setup: { channels: 2 } },
      views: [
        { channel: 2, source: { uri: 'a.npy' } },
        { source: { uri: 'b.npy' }, affine: [1, 2] },
        { source: { uri: 'c.npy' } },
        { time: 0, source: { uri: 'd.npy' } },
      ],
    });
    expect(r.success).toBe(false);
    const text = describeProblems(fieldProblems(r.error!));
    expect(text).toContain('views[0].channel: 2 is out of range: the dataset has 2 channels');
    expect(text).toContain('views[1].affine: must be 12 numbers');
    // cross-view checks run once every view is valid on its own
    const dup = Manifest.safeParse({
      dataset: { name: 'x', setup: { channels: 2 } },
      views: [
        { channel: 2, source: { uri: 'a.npy' } },
        { source: { uri: 'c.npy' } },
        { time: 0, source: { uri: 'd.npy' } },
      ],
    });
    const dupText = describeProblems(fieldProblems(dup.error!));
    expect(dupText).toContain('views[0].channel: 2 is out of range: the dataset has 2 channels (0..1)');
    expect(dupText).toContain('views[2]: duplicate view t0-i0-c0-s0-a0 (same as views[1])');
  });

  it("reports a dataset's invalid blocks on their field, also where a view's shape is checked against them", () => {
    // The views' memory check resolves the dataset's levels: with a block past its cap it threw
    // out of safeParse (a raw view has its shape in the manifest).
    for (const schema of [Manifest, ClusterManifest]) {
      const r = schema.safeParse({
        dataset: {
          name: 'x',
          subsamplingZyx: [
            [1, 1, 1],
            [1, 2, 2],
          ],
          blockSizeZyx: [
            [4, 16, 16],
            [2, 99999, 8],
          ],
        },
        views: [{ source: { uri: 'a.raw', shapeZyx: [4, 32, 32] } }],
      });
      expect(r.success).toBe(false);
      expect(fieldProblems(r.error!)).toEqual([
        { field: 'dataset.blockSizeZyx[1][1]', message: expect.stringMatching(/^Too big/) as string },
      ]);
    }
  });

  it.each([
    [
      'a zero-deep shape, blocks "auto"',
      { blockSizeZyx: 'auto' },
      { shapeZyx: [0, 64, 64] },
      'views[0].source.shapeZyx[0]',
    ],
    [
      'a shape past its cap, blocks "auto"',
      { blockSizeZyx: 'auto' },
      { shapeZyx: [8, 64, 1e9] },
      'views[0].source.shapeZyx[2]',
    ],
    [
      'a zero voxel size, levels "auto"',
      { subsamplingZyx: 'auto' },
      { voxelSizeXyz: [0, 1, 1] },
      'views[0].voxelSizeXyz[0]',
    ],
    [
      'a negative voxel size, levels "auto"',
      { subsamplingZyx: 'auto' },
      { voxelSizeXyz: [1, 1, -1] },
      'views[0].voxelSizeXyz[2]',
    ],
  ])(
    "reports %s on its field: BigDataViewer's proposal is not asked for it",
    (_label, dataset, view, field) => {
      for (const schema of [Manifest, ClusterManifest]) {
        const { shapeZyx = [8, 64, 64], voxelSizeXyz } = view as {
          shapeZyx?: number[];
          voxelSizeXyz?: number[];
        };
        const r = schema.safeParse({
          dataset: { name: 'x', compressionLevel: 12, ...dataset },
          views: [{ source: { uri: 'a.raw', shapeZyx }, ...(voxelSizeXyz ? { voxelSizeXyz } : {}) }],
        });
        expect(r.success).toBe(false);
        // Every problem is still listed, the one beside it too.
        expect(fieldProblems(r.error!).map((p) => p.field)).toEqual(
          expect.arrayContaining([field, 'dataset.compressionLevel']),
        );
      }
    },
  );

  it('round-trips view keys', () => {
    const v = { time: 3, illumination: 1, channel: 2, tile: 10, angle: 0 };
    expect(parseViewKey(viewKeyOf(v))).toEqual(v);
    expect(parseViewKey('../x')).toBeUndefined();
  });
});
