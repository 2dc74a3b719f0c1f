import { BdvH5File } from '../h5/bdv-h5-file.js';
import { MAX_READ_SLAB_BYTES, readSlabDepth } from '../h5/read-slab-depth.js';
import { RunningChecksum, type LevelChecksum } from '../model/checksums.js';
import { readChunkIndex } from './chunk-index.js';
import { nativeMemory } from '../h5/native-memory.js';
import { checksumOfStoredLevel, DEFLATE_FILTER, type StoredLevel } from './native-level-reader.js';

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

/**
 * What `bdv verify` and the finalizer compare: a level's checksum read from the file's bytes by
 * our own reader of HDF5's chunk index (native-level-reader.ts) wherever the level is stored as
 * h5wasm writes our gzip or uncompressed cells — a second reader, not the library that wrote the
 * file, faster than HDF5 (see readsNatively) — and through HDF5 for anything else (LZF, another
 * layout). `fd`: the same file, open for reading.
 */
export async function checksumOfLevelFromFile(
  file: BdvH5File,
  fd: number,
  time: number,
  setupId: number,
  level: number,
): Promise<LevelChecksum | undefined> {
  const stored = storedLevel(file, fd, time, setupId, level);
  if (stored) return checksumOfStoredLevel(fd, stored);
  return checksumOfLevelYielding(file, time, setupId, level);
}

function storedLevel(
  file: BdvH5File,
  fd: number,
  time: number,
  setupId: number,
  level: number,
): StoredLevel | undefined {
  const storage = file.cellsStorage(time, setupId, level);
  if (!storage) return undefined;
  const { objectAddress, shapeZyx, chunkZyx, filters } = storage;
  if (!readsNatively(filters)) return undefined;
  // A row of chunks (one deep, one tall, the plane wide) is held at once, its stored bytes too:
  // larger rows go through HDF5's part-chunk slabs.
  const index = readChunkIndex(fd, objectAddress, { shapeZyx, chunkZyx, maxRowBytes: MAX_READ_SLAB_BYTES });
  return index && { level, shapeZyx, index, filters };
}

/**
 * Gzip cells always: inflate is where our reader gains (libdeflate or Node's zlib against wasm's,
 * docs/adr/017, 020). Unfiltered cells where the memory binding places a chunk in one call
 * (docs/adr/022): both readers then copy each byte twice (from the file, into C order), and ours
 * skips HDF5's work per chunk. Row by row (a Buffer.copy per 512 bytes), HDF5's scatter — one
 * memcpy inside wasm — is the faster one.
 */
function readsNatively(filters: readonly number[]): boolean {
  if (filters.length === 0) return nativeMemory() !== undefined;
  return filters.length === 1 && filters[0] === DEFLATE_FILTER;
}
