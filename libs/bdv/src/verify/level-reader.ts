import { BdvH5File } from '../h5/bdv-h5-file.js';
import { readSlabDepth } from '../h5/read-slab-depth.js';
import { RunningChecksum, type LevelChecksum } from '../model/checksums.js';

/** One stored view level's shape, and its CRC-32 once `sumSlabs` has fed it every slab in z order. */
function levelSlabs(file: BdvH5File, time: number, setupId: number, level: number) {
  const shapeZyx = file.cellsShape(time, setupId, level);
  if (!shapeZyx) return undefined;
  const depth = readSlabDepth(shapeZyx, file.cellsChunkDepth(time, setupId, level));
  const sum = new RunningChecksum();
  return {
    starts: Array.from({ length: Math.ceil(shapeZyx[0] / depth) }, (_, i) => i * depth),
    // Read into a heap block the allocator hands back slab after slab (no JavaScript buffer per slab).
    addSlab: (z: number) =>
      file.withCells(time, setupId, level, z, Math.min(shapeZyx[0], z + depth), (cells) => sum.add(cells)),
    result: (): LevelChecksum => ({ level, shapeZyx, crc32: sum.hex }),
  };
}

/** What one stored view level holds: shape and CRC-32, read back slab by slab. */
export function checksumOfLevel(
  file: BdvH5File,
  time: number,
  setupId: number,
  level: number,
): LevelChecksum | undefined {
  const slabs = levelSlabs(file, time, setupId, level);
  if (!slabs) return undefined;
  for (const z of slabs.starts) slabs.addSlab(z);
  return slabs.result();
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
  const slabs = levelSlabs(file, time, setupId, level);
  if (!slabs) return undefined;
  for (const z of slabs.starts) {
    slabs.addSlab(z);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return slabs.result();
}
