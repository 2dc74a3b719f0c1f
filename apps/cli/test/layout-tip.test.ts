import { describe, expect, it } from 'vitest';
import { calibrationTip, layoutTip } from '../src/convert/convert-action.js';
import type { ConversionResult } from '../src/convert/run-conversion.js';

const result = (r: Partial<ConversionResult>) => ({ layout: 'single', written: 8, ...r }) as ConversionResult;

describe('the layout tip after a conversion', () => {
  it('names the flag for the quick form and the manifest field for a manifest', () => {
    expect(layoutTip(result({}), 'gzip', 4)).toMatch(
      /^tip: gzip views .*; --layout partitioned writes .* all 4 cores/,
    );
    expect(layoutTip(result({}), 'lzf', 2, true)).toMatch(
      /; "layout": "partitioned" in the manifest's dataset writes/,
    );
  });

  it('says nothing where the layout would not help', () => {
    expect(layoutTip(result({ layout: 'partitioned' }), 'gzip', 4)).toBe('');
    expect(layoutTip(result({ written: 1 }), 'gzip', 4)).toBe('');
    expect(layoutTip(result({}), 'none', 4)).toBe('');
    expect(layoutTip(result({}), 'gzip', 1)).toBe('');
  });
});

describe('the calibration tip after a conversion', () => {
  it('gives the calibration that draws an anisotropic voxel size to scale, x as the unit', () => {
    expect(calibrationTip({ voxelSize: '0.65,0.65,2', unit: 'um' })).toBe(
      'tip: the voxel size (0.65,0.65,2 um) is metadata; Fiji draws with the calibration, 1,1,1 here, so each voxel as a cube; --calibration 1,1,3.077 draws the stack to scale\n',
    );
    expect(calibrationTip({ voxelSize: '0.5,0.25,1' })).toMatch(/--calibration 1,0.5,2 draws/);
  });

  it('says nothing for a cubic voxel, a calibration given, or no voxel size', () => {
    expect(calibrationTip({ voxelSize: '0.4,0.4,0.4' })).toBe('');
    expect(calibrationTip({ voxelSize: '0.65,0.65,2', calibration: '1,1,1' })).toBe('');
    expect(calibrationTip({})).toBe('');
  });
});
