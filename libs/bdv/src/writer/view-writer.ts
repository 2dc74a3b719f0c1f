import { BdvError } from '../errors.js';
import type { BdvH5File } from '../h5/bdv-h5-file.js';
import { checksumThread, HeapChecksum } from '../h5/checksum-thread.js';
import { flushThread } from '../h5/flush-thread.js';
import { FLUSH_AFTER_BYTES, heapPool } from '../h5/heap-slab-writer.js';
import { heapIsShared } from '../h5/prepared-h5wasm.js';
import type { CompressionSpec } from '../model/compression.js';
import type { LevelChecksum } from '../model/checksums.js';
import { assertViewBuffer, type LevelSpec, type Zyx } from '../model/pyramid-spec.js';
import { LevelStream } from '../pyramid/level-stream.js';
import type { ScratchMemory } from '../pyramid/scratch-memory.js';
import { isInMemory, memorySlabs, slabDepthFor, type StackInput, type ViewProgress } from './stack-input.js';

export interface ViewTarget {
  file: BdvH5File;
  time: number;
  setupId: number;
  levels: readonly LevelSpec[];
  compression: CompressionSpec;
  slabBytes?: number;
}

/**
 * Input slab depth (planes) that lets level 0 pass slabs to HDF5 without re-buffering. Refuses,
 * as writeView would, a view whose chunk-deep slabs break the memory bound: a reader sizes its
 * buffers (and starts reading) from this depth, so the refusal comes before either.
 */
export function preferredSlabDepth(
  shapeZyx: readonly number[],
  format: { levels: readonly LevelSpec[]; slabBytes?: number },
): number {
  assertViewBuffer([shapeZyx[0]!, shapeZyx[1]!, shapeZyx[2]!], format.levels);
  return slabDepthFor(shapeZyx[1]! * shapeZyx[2]! * 2, format.levels[0]!.blockZyx[0], format.slabBytes);
}

/**
 * Streams one stack into every level of one view: each incoming slab feeds all levels at once,
 * so the stack is read once and never held whole. Validates that the source delivers exactly
 * the promised planes. Slabs a reader filled in the wasm heap (asSlabStack) and the pyramid's
 * own buffers go to HDF5 by address, without a copy; their views are re-made after every HDF5
 * call, which may grow the heap (see heap-slab-writer.ts).
 */
export async function writeViewLevels(
  target: ViewTarget,
  stack: StackInput,
  onProgress?: (p: ViewProgress) => void,
): Promise<LevelChecksum[]> {
  const shape = stack.shapeZyx;
  // Slabs are whole chunks deep over whole planes: refuse before a byte is written if they are too big.
  assertViewBuffer(shape, target.levels);
  const heap = await heapPool();
  const planeSize = shape[1] * shape[2];
  const thread = offThreadChecksums(heapIsShared(heap.module), shape[0] * planeSize * 2);
  const sums = target.levels.map(() => new HeapChecksum(thread));
  const { streams, fromInput } = levelStreams(target, shape, sums, heap.scratch);
  try {
    const slabs = isInMemory(stack) ? memorySlabs(stack, preferredSlabDepth(shape, target)) : stack.slabs;
    const progress: ViewProgress = {
      planesDone: 0,
      planesTotal: shape[0],
      bytesDone: 0,
      bytesTotal: shape[0] * planeSize * 2,
    };
    for await (const slab of slabs) {
      const depth = slabDepthOf(slab, shape, progress.planesDone);
      const input = heap.stable(slab);
      for (const stream of fromInput) stream.push(input, depth);
      progress.planesDone += depth;
      progress.bytesDone += depth * planeSize * 2;
      onProgress?.({ ...progress });
    }
    if (progress.planesDone !== shape[0]) {
      throw new BdvError(
        'SHAPE_MISMATCH',
        `the source ended after ${progress.planesDone} of ${shape[0]} planes`,
        'shapeZyx',
      );
    }
    for (const stream of streams) stream.finish();
  } finally {
    for (const stream of streams) stream.release();
  }
  return streams.map((stream, level) => ({ level, shapeZyx: stream.outShape, crc32: sums[level]!.hex }));
}

/**
 * Stacks at least this big have their slabs checksummed on the checksum thread: below, its
 * start-up (tens of ms of the other core) costs more than the CRC it would take over (~4 GB/s).
 */
const OFF_THREAD_CHECKSUM_BYTES = 64 * 1024 * 1024;

/**
 * Starts this thread's helper threads for a stack of `stackBytes` about to be written here: the
 * checksum thread if the stack is big enough to use it, the flush thread if it will flush. Called
 * as soon as the input's size is known (the CLI, right after reading headers): their start-up
 * (~0.1 s of the other core each) then runs while HDF5 loads, and the first slabs' checksums no
 * longer fall to the writing thread because the checksum thread was not up yet (~40-70 ms of it
 * for 512 MiB, with loading libdeflate for them). Without a shared heap the checksum thread stays
 * idle; writing never waits for either.
 */
export function warmWritingThreads(stackBytes: number): void {
  if (stackBytes >= OFF_THREAD_CHECKSUM_BYTES) checksumThread().warm();
  if (stackBytes >= FLUSH_AFTER_BYTES) flushThread().warm();
}

/** The checksum thread, started now, when the heap is shared and the stack big enough; else none. */
function offThreadChecksums(sharedHeap: boolean, stackBytes: number) {
  if (!sharedHeap || stackBytes < OFF_THREAD_CHECKSUM_BYTES) return undefined;
  const thread = checksumThread();
  thread.warm();
  return thread;
}

/**
 * One LevelStream per level, each writing whole-chunk slabs of its level's cells (checksummed).
 * A level whose factors are multiples of a finer subsampled level's is fed that level's block
 * sums (a 4,4,4 level from the 2,2,2 one reads 1/8 of the voxels); the others read the input.
 */
function levelStreams(
  target: ViewTarget,
  shape: Zyx,
  sums: HeapChecksum[],
  memory: ScratchMemory,
): { streams: LevelStream[]; fromInput: LevelStream[] } {
  const { file, time, setupId, levels, compression } = target;
  const streams: LevelStream[] = [];
  const fromInput: LevelStream[] = [];
  levels.forEach((level, index) => {
    const factors = level.factorsZyx;
    const planeBytes = Math.ceil(shape[1] / factors[1]) * Math.ceil(shape[2] / factors[2]) * 2;
    const outDepth = slabDepthFor(planeBytes, level.blockZyx[0], target.slabBytes);
    const sink = (z0: number, slab: Uint16Array, depth: number) => {
      const [, ny, nx] = stream.outShape;
      // Summed from before the write (a heap view is stale after any HDF5 call), on the checksum
      // thread while HDF5 writes the same bytes; settled before the slab's memory is reused.
      sums[index]!.add(slab);
      try {
        file.writeCells(time, setupId, index, [z0, 0, 0], [depth, ny, nx], slab);
      } catch (error) {
        // Settled even so (the slab's memory goes back to the pool next); the write's error is
        // the one to report.
        sums[index]!.settleQuietly();
        throw error;
      }
      sums[index]!.settle();
    };
    let parent = -1;
    for (let j = index - 1; j >= 0 && parent < 0; j--)
      if (LevelStream.canFeed(levels[j]!.factorsZyx, factors)) parent = j;
    const stream =
      parent >= 0
        ? LevelStream.feeding(streams[parent]!, levels[parent]!.factorsZyx, factors, outDepth, sink, memory)
        : new LevelStream(shape, [...factors], outDepth, sink, memory);
    if (parent < 0) fromInput.push(stream);
    streams.push(stream);
    file.createCells(time, setupId, index, stream.outShape, level.blockZyx, compression);
  });
  return { streams, fromInput };
}

/** Planes in `slab`: whole planes only, and never more than the shape announced. */
function slabDepthOf(slab: Uint16Array, shape: Zyx, planesDone: number): number {
  const planeSize = shape[1] * shape[2];
  if (slab.length % planeSize !== 0) {
    throw new BdvError(
      'SHAPE_MISMATCH',
      `a slab of ${slab.length} values is not whole ${shape[1]}x${shape[2]} planes`,
      'shapeZyx',
    );
  }
  const depth = slab.length / planeSize;
  if (planesDone + depth > shape[0]) {
    throw new BdvError(
      'SHAPE_MISMATCH',
      `the source has more than the ${shape[0]} planes its shape announced`,
      'shapeZyx',
    );
  }
  return depth;
}
