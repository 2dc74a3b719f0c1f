import type { NativeMemory } from '../h5/native-memory.js';
import type { StoredChunk } from './chunk-index.js';
import type { Zyx } from '../model/pyramid-spec.js';

/** What placing a chunk needs to know of its level. */
export interface ChunkGrid {
  shapeZyx: Zyx;
  index: { chunkZyx: Zyx };
}

/**
 * Copies the part of a chunk's cells (a whole chunk, C order, edges padded) that lies inside the
 * level's shape into its one-chunk-deep z-slab (C order, a whole plane wide). With the memory
 * binding, one call per chunk; without it, a `Buffer.copy` per row of the chunk — a 4,256,256
 * chunk has 1,024 rows of 512 bytes, and those calls took ~0.15 s of each verifying thread per
 * 512 MiB (docs/adr/022).
 */
export function placeChunk(
  cells: Buffer,
  chunk: Pick<StoredChunk, 'offsetZyx'>,
  slab: Uint8Array,
  grid: ChunkGrid,
  memory?: NativeMemory,
): void {
  const [nz, ny, nx] = grid.shapeZyx;
  const [cz, cy, cx] = grid.index.chunkZyx;
  const [z0, y0, x0] = chunk.offsetZyx;
  const planes = Math.min(cz, nz - z0);
  const rows = Math.min(cy, ny - y0);
  const rowBytes = Math.min(cx, nx - x0) * 2;
  const at = (y0 * nx + x0) * 2;
  if (memory) {
    memory.copyBlock(cells, slab, at, planes, rows, rowBytes, cx * 2, cy * cx * 2, nx * 2, ny * nx * 2);
    return;
  }
  for (let z = 0; z < planes; z++)
    for (let y = 0; y < rows; y++) {
      const from = (z * cy + y) * cx * 2;
      // Buffer.copy: no view object per row.
      cells.copy(slab, at + (z * ny + y) * nx * 2, from, from + rowBytes);
    }
}
