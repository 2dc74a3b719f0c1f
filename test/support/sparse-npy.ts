import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { npyHeader } from '@bdv-cluster/stacks';

/**
 * A uint16 .npy of zeros at `path`, as a sparse file: cheap to make and to read whatever its size
 * (a stack of full-size planes to test memory bounds and slab sizes without gigabytes on disk).
 */
export function zerosNpy(path: string, shapeZyx: [number, number, number]): string {
  const header = npyHeader(shapeZyx);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    ftruncateSync(fd, header.length + shapeZyx[0] * shapeZyx[1] * shapeZyx[2] * 2);
  } finally {
    closeSync(fd);
  }
  return path;
}
