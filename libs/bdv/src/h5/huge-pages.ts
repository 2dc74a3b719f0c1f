import { nativeMemory } from './native-memory.js';

/**
 * `BDV_HUGE_PAGES=off` gives no advice: HDF5's heaps get the kernel's default pages. For a host
 * whose memory is too fragmented for huge pages to come cheap (the kernel then compacts memory
 * on a fault, as `/sys/kernel/mm/transparent_hugepage/defrag` says), and for measuring.
 */
const OFF = 'off';

/**
 * Asks Linux to back memory not yet touched with transparent huge pages (docs/adr/021): a thread's
 * HDF5 heap, a verification slab. On the benchmark VMs a fault per 4 KiB page made a fresh 32 MiB
 * slab buffer cost ~100 ms of a conversion; huge pages make it a few ms. `maxBytes` may exceed
 * `heap`: a wasm heap's maximum size (the memory is reserved whole at that size and grows in
 * place), so the advice also covers the pages it grows into. The bytes advised, 0 without the
 * binding, with BDV_HUGE_PAGES=off, or where the kernel has no THP.
 */
export function adviseHugePages(heap: Uint8Array, maxBytes: number): number {
  if (process.env.BDV_HUGE_PAGES === OFF) return 0;
  return nativeMemory()?.adviseHugePages(heap, Math.max(maxBytes, heap.length)) ?? 0;
}
