import type { Zyx } from '../model/pyramid-spec.js';

/** What a reader of a whole level aims for per slab, unless it asks for another size. */
export const READ_SLAB_BYTES = 16 * 1024 * 1024;
/** Above this, a slab is cut inside chunks: memory stays bounded, decompression is repeated. */
export const MAX_READ_SLAB_BYTES = 64 * 1024 * 1024;

/**
 * Planes to read at once from a level of `shapeZyx` stored in `chunkDepth`-deep chunks: whole
 * chunks deep, as many rows of chunks as fit in `targetBytes` (at least one). A slab that ends
 * inside a chunk makes HDF5 decompress that chunk again for the next slab (the chunk cache holds
 * 1 MiB, far less than a row of chunks): reading 2-plane slabs of 4-deep chunks cost the finalizer
 * twice the decompression, 1-plane slabs cost a preview four times, 16-deep chunks eight and
 * sixteen. Chunks so deep that one row of them passes 64 MiB (16-deep blocks on 2048x2048 planes:
 * 128 MiB) are read in part-chunk slabs instead, at the repeated cost.
 */
export function readSlabDepth(shapeZyx: Zyx, chunkDepth: number, targetBytes = READ_SLAB_BYTES): number {
  const planeBytes = shapeZyx[1] * shapeZyx[2] * 2;
  if (chunkDepth * planeBytes > MAX_READ_SLAB_BYTES)
    return Math.max(1, Math.floor(MAX_READ_SLAB_BYTES / planeBytes));
  return chunkDepth * Math.max(1, Math.floor(targetBytes / (planeBytes * chunkDepth)));
}
