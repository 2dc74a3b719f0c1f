import { deflateSync } from 'node:zlib';

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
 * HDF5's deflate filter for writes, run by Node's zlib on the calling thread instead of the zlib
 * compiled into h5wasm's WebAssembly (docs/adr/018). scripts/prepare-h5wasm.mjs rewrites the
 * module so that HDF5's own deflate filter calls this for every chunk it compresses, with the
 * filter's C arguments: `(flags, cd_nelmts, cd_values, nbytes, *buf_size, **buf)`, pointers into
 * `heap`. Reads (`flags & H5Z_FLAG_REVERSE`) never come here: the rewritten module inflates in
 * wasm as before.
 *
 * The chunk is compressed into a fresh Node buffer and copied back over the input when it fits
 * (nearly always: camera data compresses), else into a new block from H5allocate_memory, which
 * replaces `*buf` (the old one given to H5free_memory) as the C filter does: HDF5 frees what a
 * filter hands back, so it must come from HDF5's allocator, whatever that is in this build. Returns the
 * compressed size, or 0 for any failure — never throws: an exception would unwind through
 * HDF5's C frames and leave its state half-changed; 0 makes H5Dwrite fail cleanly instead.
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
    if (flags & H5Z_FLAG_REVERSE || cdNelmts !== 1) return FAILED;
    // wasm passes C's unsigned ints and pointers as signed i32: read them back unsigned.
    const words = () => new DataView(heap.buffer);
    const level = words().getUint32(cdValues >>> 0, true);
    if (level > 9) return FAILED;
    const input = words().getUint32(bufPointerPointer >>> 0, true);
    const capacity = words().getUint32(bufSizePointer >>> 0, true);
    const compressed = deflateSync(new Uint8Array(heap.buffer, input, nbytes >>> 0), { level });
    if (compressed.length <= capacity) {
      new Uint8Array(heap.buffer).set(compressed, input);
      return compressed.length;
    }
    const output = allocator.H5allocate_memory(compressed.length, 0);
    if (!output) return FAILED;
    // The allocation may have grown the memory: every view is taken again after it.
    new Uint8Array(heap.buffer).set(compressed, output);
    allocator.H5free_memory(input);
    words().setUint32(bufPointerPointer >>> 0, output, true);
    words().setUint32(bufSizePointer >>> 0, compressed.length, true);
    return compressed.length;
  } catch {
    return FAILED;
  }
}
