import { loadNativeBinding } from './native-binding.js';

/** libs/bdv/native/bdv_memory.c. */
export interface NativeMemory {
  /** madvise(MADV_HUGEPAGE) over `span` bytes from `heap`'s first byte: the bytes advised, or 0. */
  adviseHugePages(heap: Uint8Array, span: number): number;
  /**
   * Copies `planes` × `rows` rows of `rowBytes` from `src` (from its first byte) into `dst` from
   * `dstOffset`, each side with its own row and plane strides; throws a RangeError, copying
   * nothing, when a byte would fall outside either array. The bytes copied.
   */
  copyBlock(
    src: Uint8Array,
    dst: Uint8Array,
    dstOffset: number,
    planes: number,
    rows: number,
    rowBytes: number,
    srcRowStride: number,
    srcPlaneStride: number,
    dstRowStride: number,
    dstPlaneStride: number,
  ): number;
  /**
   * Maps `bytes` bytes of file `fd` from `position` over whole pages inside `view`, private and
   * writable, without reading them: the offset in `view` where they start, or -1 when they cannot
   * be mapped there (too little room to line pages up, a file that refuses mmap). Absent from a
   * binding built before it (docs/adr/024).
   */
  mapFile?(view: Uint8Array, fd: number, position: number, bytes: number): number;
  /** Fresh anonymous memory over every whole page inside `view` (undoes mapFile): the bytes replaced. */
  unmapFile?(view: Uint8Array): number;
  /**
   * True when a page mapFile mapped into `view` turned out gone from the file (it shrank): the
   * SIGBUS it raised was caught and zeros put over that page and the rest of the mapping. Ask
   * before unmapFile or the next mapFile over `view`. Absent from a binding built before it.
   */
  lostMappedBytes?(view: Uint8Array): boolean;
  /** How many mappings the process lists (guards) now, every thread's: for tests and diagnostics. */
  listedMappings?(): number;
  /**
   * Reads the mapped pages under view[offset, offset + bytes) into memory on libuv's pool; rejects
   * (code EFAULT) when the file no longer covers them.
   */
  populateMapped?(view: Uint8Array, offset: number, bytes: number): Promise<void>;
  /**
   * Asks Linux on libuv's pool to read the mapped pages under view[offset, offset + bytes) into the
   * page cache without mapping them (they do not count in this process's memory); rejects only
   * when the work is cancelled.
   * Absent from a binding built before it.
   */
  prefetchMapped?(view: Uint8Array, offset: number, bytes: number): Promise<void>;
  /**
   * Drops file `fd`'s clean pages in [offset, offset + length) (length 0 or none: to the end) from
   * the page cache (posix_fadvise DONTNEED): 0, or the errno Linux refused with. Dirty pages stay.
   * Absent from a binding built before it (docs/adr/027).
   */
  dropCachedPages?(fd: number, offset?: number, length?: number): number;
}

/**
 * Whether written and verified files' pages leave the page cache (docs/adr/027):
 * `BDV_DROP_PAGES=off` keeps them.
 */
export function dropsCachedPages(): boolean {
  return process.env.BDV_DROP_PAGES !== 'off';
}

/** The binding's dropCachedPages where pages are to be dropped and it has it; else undefined. */
export function pageDropper(): NativeMemory['dropCachedPages'] {
  return dropsCachedPages() ? nativeMemory()?.dropCachedPages : undefined;
}

/** This thread's memory binding, or undefined (not built, or it fails to load: said once). */
export function nativeMemory(): NativeMemory | undefined {
  return loadNativeBinding<NativeMemory>(
    'bdv_memory',
    'BDV_NATIVE_MEMORY',
    'HDF5 heaps get no huge-page advice, verification places chunks row by row, inputs are read and written pages stay cached',
  );
}
