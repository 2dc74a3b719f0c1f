import { BdvH5File } from '../h5/bdv-h5-file.js';
import { RunningChecksum, type LevelChecksum } from '../model/checksums.js';

const SLAB_BYTES = 16 * 1024 * 1024;

/** What one stored view level holds: shape and CRC-32, read back slab by slab. */
export function checksumOfLevel(
  file: BdvH5File,
  time: number,
  setupId: number,
  level: number,
): LevelChecksum | undefined {
  const shapeZyx = file.cellsShape(time, setupId, level);
  if (!shapeZyx) return undefined;
  const sum = new RunningChecksum();
  const depth = Math.max(1, Math.floor(SLAB_BYTES / (shapeZyx[1] * shapeZyx[2] * 2)));
  for (let z = 0; z < shapeZyx[0]; z += depth)
    sum.add(file.readCells(time, setupId, level, z, Math.min(shapeZyx[0], z + depth)));
  return { level, shapeZyx, crc32: sum.hex };
}

/**
 * The same, giving the event loop a turn after every slab: a long verification (the finalizer
 * reads whole datasets back) must not starve the process's timers — a job lease that is not
 * renewed in time makes the queue count the job as stalled, and fail it after a few.
 */
export async function checksumOfLevelYielding(
  file: BdvH5File,
  time: number,
  setupId: number,
  level: number,
): Promise<LevelChecksum | undefined> {
  const shapeZyx = file.cellsShape(time, setupId, level);
  if (!shapeZyx) return undefined;
  const sum = new RunningChecksum();
  const depth = Math.max(1, Math.floor(SLAB_BYTES / (shapeZyx[1] * shapeZyx[2] * 2)));
  for (let z = 0; z < shapeZyx[0]; z += depth) {
    sum.add(file.readCells(time, setupId, level, z, Math.min(shapeZyx[0], z + depth)));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { level, shapeZyx, crc32: sum.hex };
}
