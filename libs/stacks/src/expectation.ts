import type { Zyx } from '@bdv-cluster/bdv';
import { MAX_STACK_DIM, MAX_STACK_VOXELS } from '@bdv-cluster/bdv/vocabulary';
import { StackError } from './stack-error.js';
import type { SampleType, StackExpectation } from './stack-reader.js';

/** Checks a parsed header against what the caller declared; errors name the file and both values. */
export function checkExpectation(
  name: string,
  shapeZyx: Zyx,
  sampleType: SampleType,
  expect: StackExpectation,
): void {
  if (!shapeZyx.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new StackError(
      'BAD_HEADER',
      `${name}: shape (${shapeZyx.join(', ')}) is not a 3D stack of positive sizes`,
      name,
    );
  }
  // Refused where the header is read (the API's submit check included), not by the writer later.
  if (shapeZyx.some((n) => n > MAX_STACK_DIM) || shapeZyx[0] * shapeZyx[1] * shapeZyx[2] > MAX_STACK_VOXELS) {
    throw new StackError(
      'UNSUPPORTED',
      `${name}: shape (${shapeZyx.join(', ')}) is larger than a stack bdv writes (at most ${MAX_STACK_DIM} on an axis, ${MAX_STACK_VOXELS} voxels)`,
      name,
    );
  }
  if (expect.shapeZyx && expect.shapeZyx.join(',') !== shapeZyx.join(',')) {
    throw new StackError(
      'SHAPE_MISMATCH',
      `${name}: shape (z,y,x) is (${shapeZyx.join(', ')}), expected (${expect.shapeZyx.join(', ')})`,
      name,
    );
  }
  if (expect.dtype && expect.dtype !== sampleType) {
    throw new StackError(
      'UNSUPPORTED_DTYPE',
      `${name}: samples are ${sampleType}, expected ${expect.dtype}`,
      name,
    );
  }
  if (sampleType === 'uint8' && !expect.allowUint8) {
    throw new StackError(
      'UNSUPPORTED_DTYPE',
      `${name}: samples are uint8; BDV stores uint16 — declare the dtype to widen it (--dtype uint8 in bdv convert, "dtype": "uint8" in a manifest's source, ?dtype=uint8 on an upload)`,
      name,
    );
  }
}
