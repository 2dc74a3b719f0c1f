import { heapPool } from '../h5/heap-slab-writer.js';
import { inputMapping, MAP_MIN_BYTES, MAP_ROOM_BYTES, type MappedBytes } from '../h5/input-mapping.js';
import type { Zyx } from '../model/pyramid-spec.js';

/**
 * A stack arriving as consecutive z-slabs: each chunk holds whole (y,x) planes of uint16, in
 * z order, C order within a plane. The shape is known before the first byte (from a header).
 */
export interface SlabStack {
  shapeZyx: Zyx;
  slabs: AsyncIterable<Uint16Array> | Iterable<Uint16Array>;
}

/** A whole stack already in memory (z,y,x, C order) — npy2bdv's numpy-array case. */
export interface InMemoryStack {
  shapeZyx: Zyx;
  data: Uint16Array;
}

export type StackInput = SlabStack | InMemoryStack;

export interface ViewProgress {
  planesDone: number;
  planesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export const DEFAULT_SLAB_BYTES = 16 * 1024 * 1024;

/** Slab depth for one level: whole chunks, about `slabBytes` per slab, at least one chunk. */
export function slabDepthFor(planeBytes: number, chunkDepth: number, slabBytes = DEFAULT_SLAB_BYTES): number {
  const chunksPerSlab = Math.max(1, Math.floor(slabBytes / (chunkDepth * planeBytes)));
  return chunkDepth * chunksPerSlab;
}

export function isInMemory(stack: StackInput): stack is InMemoryStack {
  return (stack as InMemoryStack).data !== undefined;
}

/** In-memory stacks stream through the same path as files, one slab view at a time (no copies). */
export function* memorySlabs(stack: InMemoryStack, depth: number): Iterable<Uint16Array> {
  const plane = stack.shapeZyx[1] * stack.shapeZyx[2];
  for (let z = 0; z < stack.shapeZyx[0]; z += depth) {
    yield stack.data.subarray(z * plane, Math.min(stack.shapeZyx[0], z + depth) * plane);
  }
}

/**
 * Memory for a reader to fill slabs in place. `view()` must be called again after every await
 * (and after anything that calls into HDF5): the memory may be the writer's wasm heap, whose
 * ArrayBuffer is replaced when it grows; the bytes stay where they are.
 */
export interface SlabBuffer {
  readonly bytes: number;
  /** At least `bytes` long (longer where the buffer has room to map files). */
  view(): Uint8Array;
  /**
   * Present where a local file's bytes can be mapped into the buffer instead of read into it
   * (docs/adr/024): maps `bytes` (at most the buffer's, at least MAP_MIN_BYTES: smaller slabs are
   * cheaper to read) from `position` of file `fd`, and says
   * where in view() they start and when they may be used; undefined when they cannot be mapped
   * (read them instead). A later map replaces an earlier one; release() undoes it.
   */
  mapFile?(fd: number, position: number, bytes: number): MappedBytes | undefined;
  release(): void;
}

/** Hands out SlabBuffers of `bytes` bytes. */
export type SlabBufferSource = (bytes: number) => Promise<SlabBuffer>;

/**
 * Buffers in this thread's HDF5 heap: a slab read into one goes to HDF5 by address (no copy), and
 * the buffers are reused by the next view of the thread (no fresh memory per view). Where local
 * inputs can be mapped, each has room to line a file's pages up with its own, and goes back to
 * the heap as anonymous memory: nothing of an input stays mapped into HDF5's heap.
 */
export const writerSlabBuffers: SlabBufferSource = async (bytes) => {
  const mapping = inputMapping();
  const block = (await heapPool()).take(bytes + (mapping ? MAP_ROOM_BYTES : 0));
  let mapped = false;
  const buffer: SlabBuffer = { bytes, view: () => block.u8(), release: () => block.release() };
  if (!mapping) return buffer;
  return {
    ...buffer,
    mapFile(fd, position, length) {
      if (length > bytes || length < MAP_MIN_BYTES) return undefined;
      mapped = true; // a failed map may have replaced pages too
      return mapping.map(() => block.u8(), fd, position, length);
    },
    release() {
      if (mapped) mapping.unmap(block.u8());
      mapped = false;
      block.release();
    },
  };
};

/**
 * Loads this thread's HDF5 now rather than at its first file: a worker thread started ahead of
 * its first task (ViewThreadPool.warm) compiles the wasm module while the caller still plans.
 */
export async function preloadHdf5(): Promise<void> {
  await heapPool();
}
