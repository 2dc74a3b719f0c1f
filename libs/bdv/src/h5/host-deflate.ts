import { deflateSync } from 'node:zlib';
import { nativeDeflate, type NativeDeflate } from './native-deflate.js';

/** What the filter needs of the wasm instance it serves: its memory and HDF5's allocator. */
export interface WasmHeap {
  buffer: ArrayBuffer;
}
/** HDF5's public calls for a filter's buffers (the module's exports), which HDF5 frees or made. */
export interface WasmAllocator {
  H5allocate_memory(size: number, clear: number): number;
  H5free_memory(pointer: number): number;
}

/** HDF5's H5Z_FLAG_REVERSE: the filter is asked to undo itself (a read). */
export const H5Z_FLAG_REVERSE = 0x0100;
/** What an HDF5 filter returns when it failed: the chunk is not written, H5Dwrite fails. */
const FAILED = 0;

/**
 * HDF5's deflate filter for writes, run on the calling thread by libdeflate (docs/adr/020) or,
 * without its binding, Node's zlib, instead of the zlib compiled into h5wasm's WebAssembly
 * (docs/adr/018). scripts/prepare-h5wasm.mjs rewrites the module so that HDF5's own deflate
 * filter calls this for every chunk it compresses, with the filter's C arguments: `(flags, cd_nelmts, cd_values, nbytes, *buf_size, **buf)`, pointers into
 * `heap`. Reads (`flags & H5Z_FLAG_REVERSE`) never come here: the rewritten module inflates in
 * wasm as before.
 *
 * The chunk is compressed into a buffer of its own and copied back over the input when it fits
 * (nearly always: camera data compresses), else into a new block from H5allocate_memory, which
 * replaces `*buf` (the old one given to H5free_memory) as the C filter does: HDF5 frees what a
 * filter hands back, so it must come from HDF5's allocator, whatever that is in this build.
 * Returns the compressed size, or 0 for a failure: h5wasm makes the filter mandatory, so HDF5
 * then fails the write (at H5Dwrite, or at the flush of its chunk cache) instead of storing the
 * chunk raw. The cause is kept for the error message (lastHostDeflateFailure). Nothing is thrown
 * through HDF5's C frames — but a dead wasm runtime (RuntimeError: an abort inside HDF5's
 * allocator) is rethrown: nothing can go on in it.
 */
export function hostDeflate(
  heap: WasmHeap,
  allocator: WasmAllocator,
  flags: number,
  cdNelmts: number,
  cdValues: number,
  nbytes: number,
  bufSizePointer: number,
  bufPointerPointer: number,
): number {
  try {
    if (flags & H5Z_FLAG_REVERSE) return fail('asked to inflate (reads stay in wasm)');
    if (cdNelmts !== 1) return fail(`${cdNelmts} filter parameters, not 1 (the level)`);
    // wasm passes C's unsigned ints and pointers as signed i32: read them back unsigned.
    const words = () => new DataView(heap.buffer);
    const level = words().getUint32(cdValues >>> 0, true);
    if (level > 9) return fail(`gzip level ${level} is not 0..9`);
    const input = words().getUint32(bufPointerPointer >>> 0, true);
    const capacity = words().getUint32(bufSizePointer >>> 0, true);
    const compressed = deflated(new Uint8Array(heap.buffer, input, nbytes >>> 0), level);
    if (compressed.length <= capacity) {
      new Uint8Array(heap.buffer).set(compressed, input);
      return compressed.length;
    }
    const output = allocator.H5allocate_memory(compressed.length, 0) >>> 0;
    if (!output) return fail(`HDF5 could not allocate ${compressed.length} bytes`);
    // The allocation may have grown the memory: every view is taken again after it.
    new Uint8Array(heap.buffer).set(compressed, output);
    allocator.H5free_memory(input);
    words().setUint32(bufPointerPointer >>> 0, output, true);
    words().setUint32(bufSizePointer >>> 0, compressed.length, true);
    return compressed.length;
  } catch (error) {
    if (error instanceof WasmRuntimeError) throw error;
    return fail(error instanceof Error ? error.message : String(error));
  }
}

/** `cells` deflated in zlib's format, by libdeflate when its binding is there. */
function deflated(cells: Uint8Array, level: number): Uint8Array {
  const binding = nativeDeflate();
  if (binding) return deflatedBy(binding, cells, level);
  // One output piece as large as the chunk (and a little): zlib's default 16 KiB pieces are
  // joined by a copy, ~1.5 % of a gzip conversion (512 MiB: 9.29 s against 9.42 s, 3 runs each).
  return deflateSync(cells, { level, chunkSize: Math.max(16 * 1024, cells.length + 1024) });
}

/** Output space reused chunk after chunk (a fresh buffer per chunk would be fresh pages each time). */
let scratch = new Uint8Array(0);

function deflatedBy(binding: NativeDeflate, cells: Uint8Array, level: number): Uint8Array {
  const bound = binding.compressBound(level, cells.length);
  if (scratch.length < bound) scratch = new Uint8Array(bound);
  const written = binding.compress(level, cells, scratch);
  // The bound is libdeflate's own promise: 0 here is a fault of the binding, not of the data.
  if (written === 0) throw new Error(`libdeflate wrote nothing for ${cells.length} bytes`);
  return scratch.subarray(0, written);
}

/** What Emscripten's abort() throws (typed here: this project's lib settings leave it out). */
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: ErrorConstructor } })
  .WebAssembly.RuntimeError;

/** Shared by every copy of this module in a thread (the glue's, a bundle's, the sources'). */
const LAST_FAILURE = Symbol.for('bdv-cluster.hostDeflate.lastFailure');
type FailureSlot = { [LAST_FAILURE]?: string };

function fail(reason: string): number {
  (globalThis as FailureSlot)[LAST_FAILURE] = reason;
  return FAILED;
}

/** Why the last gzip chunk of this thread failed to compress, once (then forgotten). */
export function lastHostDeflateFailure(): string | undefined {
  const slot = globalThis as FailureSlot;
  const reason = slot[LAST_FAILURE];
  delete slot[LAST_FAILURE];
  return reason;
}

/** `message` with why the last gzip chunk failed, if one did since it was last asked (HDF5 only says a filter failed). */
export function withHostDeflateFailure(message: string): string {
  const reason = lastHostDeflateFailure();
  return reason ? `${message} (gzip: ${reason})` : message;
}
