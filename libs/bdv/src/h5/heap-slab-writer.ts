import { BdvError } from '../errors.js';
import type { ScratchMemory } from '../pyramid/scratch-memory.js';
import { flushThread } from './flush-thread.js';
import { withHostDeflateFailure } from './host-deflate.js';
import { loadH5, type H5Module } from './h5wasm-runtime.js';

/**
 * Memory that HDF5 writes from without a copy: blocks of this thread's wasm heap, reused for the
 * thread's life. Two reasons: a slab that already sits in the heap goes to `set_dataset_data` as
 * it is, and memory touched once stays cheap — first-touching fresh pages costs ~5 ms per MiB on
 * the benchmark VM (page faults), more than copying them, so buffers allocated per view made
 * small views several times slower than one big one.
 *
 * A view of a block (HEAPU8 and friends) must be re-made after every call into HDF5: a malloc that
 * grows the heap replaces its buffer: old views of a private heap are detached, those of a shared
 * one (docs/adr/019) keep the old length. The block's address stays valid
 * (V8 grows wasm memory in place), so the bytes never move and a read in flight still lands.
 */
export class HeapBlock {
  constructor(
    private readonly pool: HeapPool,
    readonly pointer: number,
    readonly bytes: number,
  ) {}

  u8(length = this.bytes): Uint8Array {
    return new Uint8Array(this.pool.module.HEAPU8.buffer, this.pointer, length);
  }

  u16(length = this.bytes >> 1): Uint16Array {
    return new Uint16Array(this.pool.module.HEAPU8.buffer, this.pointer, length);
  }

  f64(length = this.bytes >> 3): Float64Array {
    return new Float64Array(this.pool.module.HEAPU8.buffer, this.pointer, length);
  }

  release(): void {
    this.pool.give(this);
  }
}

/** Released blocks kept for reuse beyond this are given back to the heap's allocator. */
const POOL_KEEP_BYTES = 512 * 1024 * 1024;

/** The heap blocks of one thread's HDF5 module. */
export class HeapPool {
  private readonly free: HeapBlock[] = [];
  private freeBytes = 0;

  constructor(readonly module: H5Module) {}

  /** A block of at least `bytes`: a released one of about that size, else a new one. */
  take(bytes: number): HeapBlock {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i]!.bytes;
      // a small request never pins a much larger block
      if (size >= bytes && size <= 2 * bytes + 4096 && (best < 0 || size < this.free[best]!.bytes)) best = i;
    }
    if (best >= 0) {
      const [block] = this.free.splice(best, 1);
      this.freeBytes -= block!.bytes;
      return block!;
    }
    // 8-byte alignment (float64 views): emscripten's malloc gives 8 or more.
    const pointer = this.module._malloc(Math.max(8, bytes));
    if (!pointer) throw new BdvError('HDF5', `wasm heap cannot hold a ${bytes}-byte buffer (limit 2 GiB)`);
    return new HeapBlock(this, pointer, bytes);
  }

  /**
   * Hands a block back to the heap's allocator now, not kept: for buffers whose sizes come and go
   * (a reader's slabs follow the files it is asked for). Wasm memory never shrinks, but the
   * allocator reuses what is freed, so the heap stays at the largest slab rather than the sum of
   * every size kept (up to POOL_KEEP_BYTES).
   */
  discard(block: HeapBlock): void {
    if (this.free.includes(block)) return;
    this.module._free(block.pointer);
  }

  give(block: HeapBlock): void {
    if (this.free.includes(block)) return;
    this.free.push(block);
    this.freeBytes += block.bytes;
    while (this.freeBytes > POOL_KEEP_BYTES) {
      const oldest = this.free.shift()!;
      this.freeBytes -= oldest.bytes;
      this.module._free(oldest.pointer);
    }
  }

  /** Pyramid buffers in the heap: written to HDF5 without a copy, reused view after view. */
  readonly scratch: ScratchMemory = {
    uint16: (length) => {
      const block = this.take(length * 2);
      return { view: () => block.u16(length), release: () => block.release() };
    },
    float64: (length) => {
      const block = this.take(length * 8);
      block.f64(length).fill(0);
      return { view: () => block.f64(length), release: () => block.release() };
    },
  };

  /** True when `data` is a (current) view of this heap: HDF5 can take it by address. */
  holds(data: ArrayBufferView): boolean {
    return data.buffer === this.module.HEAPU8.buffer;
  }

  /**
   * A getter that always gives a usable view of `data`: re-made over the current heap if `data`
   * is a heap view (its ArrayBuffer may be replaced by any HDF5 call), `data` itself otherwise.
   */
  stable(data: Uint16Array): () => Uint16Array {
    if (!this.holds(data)) return () => data;
    const { byteOffset, length } = data;
    let view = data;
    return () => {
      if (view.buffer !== this.module.HEAPU8.buffer)
        view = new Uint16Array(this.module.HEAPU8.buffer, byteOffset, length);
      return view;
    };
  }
}

let pool: HeapPool | undefined;

/** This thread's heap pool (loads HDF5 on first use). */
export async function heapPool(): Promise<HeapPool> {
  if (pool) return pool;
  const { module } = await loadH5();
  pool ??= new HeapPool(module);
  return pool;
}

/**
 * Dirty output bytes after which the flush thread is asked to fdatasync the file: the disk writes
 * it while HDF5 goes on, so the fsync that commits the file at close has at most about this much
 * left to wait for. Without it the kernel starts writing only when close asks (dirty pages expire
 * after 30 s), and the whole file's disk time is added to the conversion.
 */
export const FLUSH_AFTER_BYTES = 32 * 1024 * 1024;

/**
 * Writes hyperslabs of 16-bit cells through the low-level `set_dataset_data` binding. A slab that
 * is a view of the heap (a reader filled it there, or a pyramid level was computed there) is
 * passed by address; any other is copied once into a pooled heap block. h5wasm's `write_slice`
 * would instead malloc + copy on every call and convert Uint16 -> Int16 element by element
 * (about half our throughput, measured); storing uint16 bits in an int16 dataset needs no
 * conversion at all. This is the only place that touches the undocumented binding.
 */
export class HeapSlabWriter {
  private scratch: HeapBlock | undefined;
  private readonly pool: HeapPool;
  private unflushed = 0;

  /** `path`: the file written, flushed to disk in the background as it grows (see FLUSH_AFTER_BYTES). */
  constructor(
    private readonly module: H5Module,
    private readonly path?: string,
    private readonly flushAfterBytes = FLUSH_AFTER_BYTES,
  ) {
    pool ??= new HeapPool(module);
    this.pool = pool;
  }

  write(
    fileId: bigint,
    datasetPath: string,
    offsetZyx: readonly number[],
    countZyx: readonly number[],
    data: Uint16Array,
  ): void {
    const bytes = countZyx[0]! * countZyx[1]! * countZyx[2]! * 2;
    // A view of a private heap's buffer that was replaced (grown) has length 0: refused here,
    // never written. A shared heap's old view keeps its bytes (docs/adr/019): copied in below.
    if (data.byteLength !== bytes) {
      throw new BdvError(
        'SHAPE_MISMATCH',
        `slab of ${data.byteLength} bytes for a ${countZyx.join('x')} region`,
      );
    }
    const pointer = this.pool.holds(data) ? data.byteOffset : this.copyIn(data, bytes);
    const status = this.slab('set_dataset_data', fileId, datasetPath, offsetZyx, countZyx, pointer);
    if (status < 0)
      throw new BdvError(
        'HDF5',
        withHostDeflateFailure(`HDF5 refused to write ${datasetPath} at z=${offsetZyx[0]}`),
      );
    this.unflushed += bytes;
    if (this.unflushed >= this.flushAfterBytes) this.flushInBackground();
  }

  /**
   * `bytes` of cells are about to be written: when that is enough to ask for a flush, the flush
   * thread starts now (~0.1 s of the other core) rather than at the first request, which came
   * late. Small files never start it (a tiny conversion paid ~20 ms for it).
   */
  expect(bytes: number): void {
    if (this.path && bytes >= this.flushAfterBytes) flushThread().warm();
  }

  /**
   * Reads a hyperslab of 16-bit cells into a heap block and lends it to `use`, valid only during
   * that call: no JavaScript buffer per slab (h5wasm's `slice` allocates one in the heap and
   * another in JavaScript each time, which a finalizer reading gigabytes turns into garbage). The
   * block is freed, not pooled: the next slab of the same size gets the same memory back from the
   * allocator, and a long-lived reader (the API's previews) does not keep a block per size it met.
   */
  read(
    fileId: bigint,
    datasetPath: string,
    offsetZyx: readonly number[],
    countZyx: readonly number[],
    use: (cells: Int16Array) => void,
  ): void {
    const values = countZyx[0]! * countZyx[1]! * countZyx[2]!;
    const block = this.pool.take(values * 2);
    try {
      const status = this.slab('get_dataset_data', fileId, datasetPath, offsetZyx, countZyx, block.pointer);
      if (status < 0) throw new BdvError('HDF5', `HDF5 could not read ${datasetPath} at z=${offsetZyx[0]}`);
      use(new Int16Array(this.module.HEAPU8.buffer, block.pointer, values));
    } finally {
      this.pool.discard(block);
    }
  }

  /** One contiguous (stride 1) hyperslab through either low-level binding, at a heap address. */
  private slab(
    binding: 'set_dataset_data' | 'get_dataset_data',
    fileId: bigint,
    datasetPath: string,
    offsetZyx: readonly number[],
    countZyx: readonly number[],
    pointer: number,
  ): number {
    return this.module[binding](
      fileId,
      datasetPath,
      countZyx.map(BigInt),
      offsetZyx.map(BigInt),
      [1n, 1n, 1n],
      BigInt(pointer),
    );
  }

  /** Gives the copy buffer back to the pool (for the next file of this thread). */
  release(): void {
    this.scratch?.release();
    this.scratch = undefined;
  }

  private copyIn(data: Uint16Array, bytes: number): number {
    if (!this.scratch || this.scratch.bytes < bytes) {
      this.scratch?.release();
      this.scratch = this.pool.take(bytes);
    }
    // Re-read HEAPU8 after take(): a malloc that grows the heap replaces its buffer.
    this.module.HEAPU8.set(new Uint8Array(data.buffer, data.byteOffset, bytes), this.scratch.pointer);
    return this.scratch.pointer;
  }

  /** One fdatasync at a time, on the flush thread; a request while it is busy waits for the next slab. */
  private flushInBackground(): void {
    if (this.path && flushThread().request(this.path)) this.unflushed = 0;
  }
}
