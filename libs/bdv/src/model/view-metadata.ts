import { invalid } from '../errors.js';
import type { Zyx } from './pyramid-spec.js';
import { assertTextField } from './text-field.js';

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

/** Voxel sizes are lengths: > 0. */
function positiveTriple(field: string, v: readonly number[]): Xyz {
  const t = finiteTriple(field, v);
  if (!t.every((x) => x > 0)) throw invalid(field, `must be 3 numbers > 0 (x,y,z), got [${t.join(', ')}]`);
  return t;
}

/** A calibration scales each axis; 0 would collapse it (negative mirrors, which is allowed). */
function nonZeroTriple(field: string, v: readonly number[]): Xyz {
  const t = finiteTriple(field, v);
  if (t.some((x) => x === 0))
    throw invalid(field, `must be 3 non-zero numbers (x,y,z), got [${t.join(', ')}]`);
  return t;
}

/**
 * Why a 3x4 row-major affine is refused, or undefined: 12 finite numbers whose 3x3 part is
 * invertible (BDV inverts every view transform; a singular one collapses the view to a plane).
 * "Singular" is relative: |det| at most 1e-12 of the product of the row lengths.
 */
export function affineProblem(affine: readonly number[]): string | undefined {
  if (affine.length !== 12 || !affine.every(Number.isFinite))
    return `must be 12 finite numbers (3x4 row-major), got ${affine.length} values`;
  const [a, b, c, , d, e, f, , g, h, i] = affine as number[];
  const det = a! * (e! * i! - f! * h!) - b! * (d! * i! - f! * g!) + c! * (d! * h! - e! * g!);
  const rowLengths = [0, 4, 8]
    .map((r) => Math.hypot(affine[r]!, affine[r + 1]!, affine[r + 2]!))
    .reduce((x, y) => x * y, 1);
  if (rowLengths === 0 || Math.abs(det) <= 1e-12 * rowLengths)
    return 'its 3x3 part is singular (determinant 0): it would collapse the view';
  return undefined;
}

const TEXT_FIELDS = ['voxelUnits', 'affineName', 'exposureUnits', 'cameraName'] as const;

export function resolveViewMetadata(input: ViewMetadataInput = {}): ViewMetadata {
  const m: ViewMetadata = { ...DEFAULT_VIEW_METADATA };
  if (input.voxelSizeXyz) m.voxelSizeXyz = positiveTriple('voxelSizeXyz', input.voxelSizeXyz);
  if (input.calibrationXyz) m.calibrationXyz = nonZeroTriple('calibrationXyz', input.calibrationXyz);
  if (input.affine !== undefined) {
    const problem = affineProblem(input.affine);
    if (problem) throw invalid('affine', problem);
    m.affine = [...input.affine];
  }
  for (const key of TEXT_FIELDS) {
    const v = input[key];
    if (v !== undefined) m[key] = assertTextField(key, v);
  }
  if (input.exposureTime !== undefined) {
    if (!Number.isFinite(input.exposureTime) || input.exposureTime < 0)
      throw invalid('exposureTime', `must be a finite number >= 0, got ${input.exposureTime}`);
    m.exposureTime = input.exposureTime;
  }
  return m;
}
