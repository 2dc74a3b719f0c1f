import { readSync } from 'node:fs';
import pMap from 'p-map';
import { promisify } from 'node:util';
import { inflate } from 'node:zlib';
import { RunningChecksum, type LevelChecksum } from '../model/checksums.js';
import type { Zyx } from '../model/pyramid-spec.js';
import type { ChunkIndex, StoredChunk } from './chunk-index.js';

const inflateAsync = promisify(inflate);

/** Chunks of one slab inflating at once: keeps the libuv pool busy, and memory bounded. */
const INFLATES_AT_ONCE = 8;

/** HDF5's filter id of deflate (gzip). */
export const DEFLATE_FILTER = 1;

/** How one level's cells are stored: what `checksumOfStoredLevel` needs besides the file. */
export interface StoredLevel {
  level: number;
  shapeZyx: Zyx;
  index: ChunkIndex;
  /** The dataset's filter pipeline: [] (none) or [DEFLATE_FILTER]. */
  filters: readonly number[];
}

/**
 * A level's CRC-32 computed from the file's bytes, z-slab by z-slab (one chunk deep): each
 * chunk read where the index says, inflated by Node's zlib on the libuv pool (all chunks of a
 * slab at once, so one file decompresses on several cores), its rows put in C order, the slab
 * summed. A chunk the index does not list reads as HDF5's fill value, 0 — as HDF5 itself reads
 * it. Throws on a chunk that cannot be read or does not inflate to a whole chunk.
 */
export async function checksumOfStoredLevel(fd: number, stored: StoredLevel): Promise<LevelChecksum> {
  const { shapeZyx, index } = stored;
  const [nz, ny, nx] = shapeZyx;
  const [cz, cy, cx] = index.chunkZyx;
  if (index.elementBytes !== 2) throw new Error(`cells of ${index.elementBytes} bytes, expected 2 (int16)`);
  const byZ = new Map<number, StoredChunk[]>();
  for (const chunk of index.chunks) {
    const [z, y, x] = chunk.offsetZyx;
    if (z % cz || y % cy || x % cx || z >= nz || y >= ny || x >= nx)
      throw new Error(`a chunk at (${chunk.offsetZyx.join(',')}) lies off the chunk grid or the shape`);
    const list = byZ.get(z);
    if (list) list.push(chunk);
    else byZ.set(z, [chunk]);
  }
  const sum = new RunningChecksum();
  const slab = new Uint8Array(Math.min(cz, nz) * ny * nx * 2);
  for (let z0 = 0; z0 < nz; z0 += cz) {
    const dz = Math.min(cz, nz - z0);
    const target = slab.subarray(0, dz * ny * nx * 2);
    target.fill(0);
    const chunks = byZ.get(z0) ?? [];
    await pMap(
      chunks,
      async (chunk) => placeChunk(await chunkCells(fd, chunk, stored), chunk, target, stored),
      {
        concurrency: INFLATES_AT_ONCE,
      },
    );
    sum.add(new Int16Array(target.buffer, target.byteOffset, target.byteLength / 2));
  }
  return { level: stored.level, shapeZyx, crc32: sum.hex };
}

/** One chunk's cells as stored (a whole chunk, edges padded), inflated if it was deflated. */
async function chunkCells(fd: number, chunk: StoredChunk, stored: StoredLevel): Promise<Uint8Array> {
  const [cz, cy, cx] = stored.index.chunkZyx;
  const whole = cz * cy * cx * 2;
  const raw = Buffer.alloc(chunk.bytes);
  let done = 0;
  while (done < raw.length) {
    const n = readSync(fd, raw, done, raw.length - done, chunk.address + done);
    if (n === 0)
      throw new Error(`chunk (${chunk.offsetZyx.join(',')}) at byte ${chunk.address}: the file ended`);
    done += n;
  }
  const deflated = stored.filters[0] === DEFLATE_FILTER && (chunk.filterMask & 1) === 0;
  const cells = deflated
    ? await inflateAsync(raw, { chunkSize: whole }).catch((error: Error) => {
        throw new Error(`chunk (${chunk.offsetZyx.join(',')}) does not inflate: ${error.message}`);
      })
    : raw;
  if (cells.length !== whole)
    throw new Error(`chunk (${chunk.offsetZyx.join(',')}) holds ${cells.length} bytes, expected ${whole}`);
  return cells;
}

/** Copies the part of a chunk inside the level's shape into its z-slab, row by row. */
function placeChunk(cells: Uint8Array, chunk: StoredChunk, slab: Uint8Array, stored: StoredLevel): void {
  const [nz, ny, nx] = stored.shapeZyx;
  const [, cy, cx] = stored.index.chunkZyx;
  const [z0, y0, x0] = chunk.offsetZyx;
  const rows = Math.min(cy, ny - y0);
  const rowBytes = Math.min(cx, nx - x0) * 2;
  const planes = Math.min(stored.index.chunkZyx[0], nz - z0);
  for (let z = 0; z < planes; z++)
    for (let y = 0; y < rows; y++) {
      const from = (z * cy + y) * cx * 2;
      slab.set(cells.subarray(from, from + rowBytes), ((z * ny + y0 + y) * nx + x0) * 2);
    }
}
