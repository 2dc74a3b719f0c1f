import { adviseHugePages } from './huge-pages.js';
import { nativeMemory } from './native-memory.js';

/**
 * `BDV_MAP_INPUTS=off` reads local inputs into the slab buffers instead of mapping them: for
 * measuring, and for a file system whose mapped pages misbehave.
 */
const OFF = 'off';

/**
 * Room a slab buffer needs beyond its bytes so that a file's pages can be lined up with its own:
 * two pages of the largest size Linux uses (64 KiB, on some arm64 kernels).
 */
export const MAP_ROOM_BYTES = 128 * 1024;

/**
 * Smaller slabs are read: mapping one, populating it on libuv's pool and giving the memory back
 * cost ~0.5 ms a view, more than copying a small slab (AMD EPYC VM, 2026-11-28, 5 alternating
 * runs: 200 views of 1 MiB 1.05 s mapped against 0.93 s read; 60 views of 8 MiB 0.96 s against
 * 1.04 s; one view of 512 MiB in 32 MiB slabs 0.60 s against 0.73 s).
 */
export const MAP_MIN_BYTES = 4 * 1024 * 1024;

/**
 * Slabs from this size on are only read ahead into the page cache when mapped, and mapped into
 * memory (populated) when their reader asks for them: a reader holds two slabs, and populated
 * ahead, the next one counted in the process's memory beside the one being written. With
 * BigDataViewer's 16³ blocks on 2048² planes (128 MiB slabs) that was 537 MiB of peak RSS for
 * one view, 301 MiB of it mapped input. Populating 128 MiB of cached pages takes ~4-8 ms; below
 * this size (npy2bdv's blocks: 32 MiB slabs) the slab is populated ahead as before.
 */
export const POPULATE_WHEN_USED_BYTES = 64 * 1024 * 1024;

/** Where mapped bytes start in a buffer, and when they may be used. */
export interface MappedBytes {
  /** Offset of the first mapped byte in the buffer's view. */
  offset: number;
  /**
   * Resolves once the bytes are in memory (populated now if they were only read ahead); rejects
   * when the file no longer holds them. Call it when the bytes are about to be used.
   */
  ready(): Promise<void>;
  /**
   * True when the file was found not to hold some of the bytes any more after they were mapped
   * (it shrank while they were used: a SIGBUS caught, zeros read in their place). Ask once the
   * bytes are no longer used, before the buffer is mapped again or given back; then refuse them.
   */
  lost(): boolean;
}

/** Maps local files into memory this thread owns (docs/adr/024). */
export interface InputMapping {
  /**
   * Maps the bytes over the memory `view()` returns, or undefined: read them instead. A getter:
   * a slab populated when used (POPULATE_WHEN_USED_BYTES) needs a view of that memory then, and a
   * private wasm heap replaces its ArrayBuffer (the bytes stay where they are) whenever it grows.
   */
  map(view: () => Uint8Array, fd: number, position: number, bytes: number): MappedBytes | undefined;
  /** Gives `view` anonymous memory again (with huge-page advice, as the heap had). */
  unmap(view: Uint8Array): void;
}

let mapping: InputMapping | null | undefined;

/** This thread's input mapping, or undefined: off, not Linux, no binding, or one built before it. */
export function inputMapping(): InputMapping | undefined {
  if (mapping === undefined) mapping = process.env.BDV_MAP_INPUTS === OFF ? null : (makeMapping() ?? null);
  return mapping ?? undefined;
}

function makeMapping(): InputMapping | undefined {
  const native = nativeMemory();
  const { mapFile, unmapFile, populateMapped, prefetchMapped, lostMappedBytes } = native ?? {};
  // A binding that cannot say a mapping was lost would let a shrinking input end the process.
  if (!native || !mapFile || !unmapFile || !populateMapped || !lostMappedBytes) return undefined;
  return {
    map(view, fd, position, bytes) {
      const offset = mapFile.call(native, view(), fd, position, bytes);
      if (offset < 0) return undefined;
      const populate = () => populateMapped.call(native, view(), offset, bytes);
      const lost = () => lostMappedBytes.call(native, view());
      if (bytes < POPULATE_WHEN_USED_BYTES || !prefetchMapped) {
        const populated = populate();
        populated.catch(() => undefined); // met by ready()
        return { offset, ready: () => populated, lost };
      }
      prefetchMapped.call(native, view(), offset, bytes).catch(() => undefined);
      let populated: Promise<void> | undefined;
      return { offset, ready: () => (populated ??= populate()), lost };
    },
    unmap(view) {
      unmapFile.call(native, view);
      adviseHugePages(view, view.length);
    },
  };
}
