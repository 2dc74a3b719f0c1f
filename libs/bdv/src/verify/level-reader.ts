import { BdvH5File } from '../h5/bdv-h5-file.js';
import { RunningChecksum, type LevelChecksum } from '../model/checksums.js';
import type { Zyx } from '../model/pyramid-spec.js';

const SLAB_BYTES = 16 * 1024 * 1024;

/**
 * Planes read at once: whole chunks deep. A slab that ends inside a chunk makes HDF5 decompress
 * that chunk again for the next slab (the chunk cache holds 1 MiB, far less than a row of chunks):
 * reading 2-plane slabs of 4-deep chunks cost the finalizer twice the decompression, and 16-deep
 * chunks eight times. Writers need the same whole-chunk slabs, so memory stays as bounded as theirs.
 */
function slabDepth(shapeZyx: Zyx, chunkDepth: number): number {
  const chunks = Math.floor(SLAB_BYTES / (shapeZyx[1] * shapeZyx[2] * 2 * chunkDepth));
  return chunkDepth * Math.max(1, chunks);
}

/** One stored view level's shape, and its CRC-32 once `sumSlabs` has fed it every slab in z order. */
function levelSlabs(file: BdvH5File, time: number, setupId: number, level: number) {
  const shapeZyx = file.cellsShape(time, setupId, level);
  if (!shapeZyx) return undefined;
  const depth = slabDepth(shapeZyx, file.cellsChunkDepth(time, setupId, level));
  const sum = new RunningChecksum();
  return {
    starts: Array.from({ length: Math.ceil(shapeZyx[0] / depth) }, (_, i) => i * depth),
    addSlab: (z: number) =>
      sum.add(file.readCells(time, setupId, level, z, Math.min(shapeZyx[0], z + depth))),
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
