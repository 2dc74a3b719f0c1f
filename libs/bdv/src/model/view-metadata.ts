import { invalid } from '../errors.js';
import type { Zyx } from './pyramid-spec.js';

export type Xyz = [number, number, number];

/** Per-view metadata as npy2bdv's append_view takes it (defaults are npy2bdv's). */
export interface ViewMetadata {
  voxelSizeXyz: Xyz;
  voxelUnits: string;
  calibrationXyz: Xyz;
  /** 3x4 row-major affine (pixel -> world), applied after calibration; absent = none. */
  affine?: number[];
  affineName: string;
  exposureTime: number;
  exposureUnits: string;
  cameraName?: string;
}

export type ViewMetadataInput = Partial<ViewMetadata>;

/** A view written to the file: what the XML needs to describe it. */
export interface ViewRecord extends ViewMetadata {
  time: number;
  setupId: number;
  shapeZyx: Zyx;
}

export const DEFAULT_VIEW_METADATA: ViewMetadata = {
  voxelSizeXyz: [1, 1, 1],
  voxelUnits: 'px',
  calibrationXyz: [1, 1, 1],
  affineName: 'manually defined',
  exposureTime: 0,
  exposureUnits: 's',
};

function finiteTriple(field: string, v: readonly number[]): Xyz {
  if (v.length !== 3 || !v.every(Number.isFinite)) {
    throw invalid(field, `must be 3 finite numbers (x,y,z), got [${v.join(', ')}]`);
  }
  return [v[0]!, v[1]!, v[2]!];
}

export function resolveViewMetadata(input: ViewMetadataInput = {}): ViewMetadata {
  const m: ViewMetadata = { ...DEFAULT_VIEW_METADATA };
  if (input.voxelSizeXyz) m.voxelSizeXyz = finiteTriple('voxelSizeXyz', input.voxelSizeXyz);
  if (input.calibrationXyz) m.calibrationXyz = finiteTriple('calibrationXyz', input.calibrationXyz);
  if (input.affine !== undefined) {
    if (input.affine.length !== 12 || !input.affine.every(Number.isFinite)) {
      throw invalid('affine', `must be 12 finite numbers (3x4 row-major), got ${input.affine.length} values`);
    }
    m.affine = [...input.affine];
  }
  for (const key of ['voxelUnits', 'affineName', 'exposureUnits', 'cameraName'] as const) {
    const v = input[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length === 0) throw invalid(key, 'must be a non-empty string');
    m[key] = v;
  }
  if (input.exposureTime !== undefined) {
    if (!Number.isFinite(input.exposureTime)) throw invalid('exposureTime', 'must be a finite number');
    m.exposureTime = input.exposureTime;
  }
  return m;
}
