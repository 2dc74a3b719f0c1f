import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  BatchSpec,
  DatasetSpec,
  fieldProblems,
  FinalizeSpec,
  Manifest,
  pyramidFor,
  sourceOptionsFromQuery,
  ViewSpec,
} from '../src/index.js';

/** The fields a schema refuses in `body`, as `a.b[0]` paths. */
function refused(schema: z.ZodType, body: unknown): string[] {
  const r = schema.safeParse(body);
  return r.success ? [] : fieldProblems(r.error).map((p) => p.field);
}

const source = { uri: 's3://raw/a.npy' };

describe('every number of a request is bounded', () => {
  it('setup counts, their product, timepoints and timepoints x setups', () => {
    expect(refused(DatasetSpec, { name: 'a', setup: { channels: 20_000 } })).toContain('setup.channels');
    expect(refused(DatasetSpec, { name: 'a', setup: { channels: 1e9 } })).toContain('setup.channels');
    expect(refused(DatasetSpec, { name: 'a', setup: { channels: 200, tiles: 100 } })).toEqual(['setup']);
    expect(refused(DatasetSpec, { name: 'a', timepoints: 1e15 })).toEqual(['timepoints']);
    expect(refused(DatasetSpec, { name: 'a', timepoints: 100_000, setup: { channels: 11 } })).toEqual([
      'timepoints',
    ]);
    expect(refused(DatasetSpec, { name: 'a', timepoints: 100_000, setup: { channels: 10 } })).toEqual([]);
    expect(refused(FinalizeSpec, { timepoints: 1e15 })).toEqual(['timepoints']);
  });

  it('levels, factors and blocks', () => {
    const levels = (n: number) => Array.from({ length: n }, (_, i) => [1, 2 ** i, 2 ** i]);
    expect(refused(DatasetSpec, { name: 'a', subsamplingZyx: levels(11) })).toEqual(['subsamplingZyx']);
    expect(refused(DatasetSpec, { name: 'a', subsamplingZyx: levels(10) })).toEqual([]);
    const huge = [
      [1, 1, 1],
      [1, 2048, 2048],
    ];
    expect(refused(DatasetSpec, { name: 'a', subsamplingZyx: huge })).toEqual([
      'subsamplingZyx[1][1]',
      'subsamplingZyx[1][2]',
    ]);
    const same = Array.from({ length: 3 }, () => [1, 1, 1]);
    expect(refused(DatasetSpec, { name: 'a', subsamplingZyx: same })).toEqual(['subsamplingZyx[1]']);
    const shrinking = [
      [1, 1, 1],
      [2, 4, 4],
      [2, 2, 8],
    ];
    expect(refused(DatasetSpec, { name: 'a', subsamplingZyx: shrinking })).toEqual(['subsamplingZyx[2]']);
    expect(refused(DatasetSpec, { name: 'a', subsamplingZyx: [[2, 2, 2]] })).toEqual(['subsamplingZyx[0]']);
    expect(refused(DatasetSpec, { name: 'a', blockSizeZyx: [[1e9, 1e9, 1e9]] })).toEqual([
      'blockSizeZyx[0][0]',
      'blockSizeZyx[0][1]',
      'blockSizeZyx[0][2]',
    ]);
    expect(refused(DatasetSpec, { name: 'a', blockSizeZyx: [[256, 4096, 4096]] })).toEqual([
      'blockSizeZyx[0]',
    ]);
    expect(refused(DatasetSpec, { name: 'a', blockSizeZyx: [[16, 512, 512]] })).toEqual([]);
  });

  it('view indices, shapes, header bytes and metadata', () => {
    expect(refused(ViewSpec, { time: 2 ** 53 - 1, source })).toEqual(['time']);
    expect(refused(ViewSpec, { channel: 10_000, source })).toEqual(['channel']);
    expect(refused(ViewSpec, { source: { ...source, shapeZyx: [2 ** 21, 1, 1] } })).toEqual([
      'source.shapeZyx[0]',
    ]);
    expect(refused(ViewSpec, { source: { ...source, headerBytes: 2 ** 31 } })).toEqual([
      'source.headerBytes',
    ]);
    expect(refused(ViewSpec, { source, voxelSizeXyz: [-1, 1, 1] })).toEqual(['voxelSizeXyz[0]']);
    expect(refused(ViewSpec, { source, voxelSizeXyz: [1e300, 1, 1] })).toEqual(['voxelSizeXyz[0]']);
    expect(refused(ViewSpec, { source, calibrationXyz: [1, 0, 1] })).toEqual(['calibrationXyz[1]']);
    expect(refused(ViewSpec, { source, calibrationXyz: [1e-320, 1, 1] })).toEqual(['calibrationXyz[0]']);
    expect(refused(ViewSpec, { source, calibrationXyz: [-2, 1, 1] })).toEqual([]);
    expect(refused(ViewSpec, { source, affine: new Array(12).fill(0) })).toEqual(['affine']);
    expect(refused(ViewSpec, { source, exposureTime: -1 })).toEqual(['exposureTime']);
    expect(
      sourceOptionsFromQuery({ format: 'raw', shapeZyx: '1,1,1', headerBytes: '99999999999' }).success,
    ).toBe(false);
  });

  it('a declared shape whose chunk-deep slabs would break the memory bound', () => {
    const r = Manifest.safeParse({
      dataset: { name: 'a', blockSizeZyx: [[64, 64, 64]] },
      views: [{ source: { uri: 'a.raw', format: 'raw', shapeZyx: [128, 2048, 2048] } }],
    });
    expect(r.success).toBe(false);
    expect(fieldProblems(r.error!)).toEqual([
      {
        field: 'views[0].source.shapeZyx',
        message: expect.stringMatching(/needs 512 MiB of chunk-deep slabs/),
      },
    ]);
  });

  it('"auto" blocks a shape would need too deep are made shallower, not refused', () => {
    // BigDataViewer proposes 16³ for isotropic voxels: 312 MiB of level-0 slab on 3200x3200 planes
    const views = [{ source: { uri: 'a.raw', format: 'raw', shapeZyx: [200, 3200, 3200] } }];
    expect(Manifest.safeParse({ dataset: { name: 'a', blockSizeZyx: 'auto' }, views }).success).toBe(true);
    const pyramid = pyramidFor({ subsamplingZyx: 'auto', blockSizeZyx: 'auto' }, [200, 3200, 3200]);
    expect(pyramid.blockSizeZyx[0]).toEqual([4, 32, 32]);
    expect(pyramid.shallowerBlockLevels).toEqual([0]);
    // given blocks are the user's: refused as before
    const given = Manifest.safeParse({ dataset: { name: 'a', blockSizeZyx: [[16, 16, 16]] }, views });
    expect(given.success).toBe(false);
  });
});

describe('every string of a request is bounded and XML-safe', () => {
  it('refuses C0 controls, U+FFFE/U+FFFF and lone surrogates, naming the field', () => {
    const bad = ['a\u0000', 'a\u0007b', '\u001b[31m', 'x\uFFFE', 'x\uFFFF', 'x\uD800', '\uDC00y'];
    for (const s of bad) {
      expect(
        refused(DatasetSpec, { name: 'a', setup: { channels: 2 }, attributeLabels: { channel: ['488', s] } }),
        s,
      ).toEqual(['attributeLabels.channel[1]']);
      expect(refused(DatasetSpec, { name: 'a', microscope: { name: s } }), s).toEqual(['microscope.name']);
      expect(
        refused(ViewSpec, { source, voxelUnits: s, cameraName: s, affineName: s, exposureUnits: s }),
      ).toEqual(['voxelUnits', 'affineName', 'exposureUnits', 'cameraName']);
      expect(refused(ViewSpec, { source: { uri: `s3://raw/${s}` } })).toEqual(['source.uri']);
      expect(refused(FinalizeSpec, { camera: s, microscope: { user: s } })).toEqual([
        'microscope.user',
        'camera',
      ]);
    }
    const fine = 'Orca Flash 4.0\tv3 — µm 😀';
    expect(refused(ViewSpec, { source, cameraName: fine, voxelUnits: 'µm' })).toEqual([]);
  });

  it('bounds lengths', () => {
    expect(refused(ViewSpec, { source, cameraName: 'x'.repeat(257) })).toEqual(['cameraName']);
    expect(refused(ViewSpec, { source: { uri: `s3://raw/${'k'.repeat(5000)}` } })).toEqual(['source.uri']);
    expect(refused(DatasetSpec, { name: 'n'.repeat(129) })).toContain('name');
  });

  it('checks a batch body up front: its dataset and view defaults', () => {
    const batch = { source: 's3://raw/run/', pattern: 't{time}.npy' };
    expect(refused(BatchSpec, { ...batch, dataset: { name: 'a', setup: { channels: 1e9 } } })).toEqual([
      'dataset.setup.channels',
    ]);
    expect(
      refused(BatchSpec, { ...batch, dataset: { name: 'a' }, viewDefaults: { voxelUnits: 'u\u0001m' } }),
    ).toEqual(['viewDefaults.voxelUnits']);
    const ok = BatchSpec.parse({ ...batch, dataset: { name: 'a', setup: { channels: 2 } } });
    expect(ok.dataset.setup).toEqual({ channels: 2 }); // the rest is left to inference
  });
});
