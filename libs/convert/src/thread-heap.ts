import { setFlagsFromString } from 'node:v8';

/**
 * The old generation's first allocation limit, in MiB, for the threads started after
 * `sizeThreadHeaps()`. V8 starts a thread with a limit of a few MiB above what it holds (~20 MiB
 * for a view thread once the AWS SDK is loaded); a thread streaming an object from S3 receives
 * a fresh 64 KiB Buffer per socket read, and with so little room V8 ran a full (mark-compact)
 * collection every ~4 MiB received: ~140 per 512 MiB, over half of the reading thread's CPU.
 * From 64 MiB on (32 was not enough) the storm stops: one full GC per 2 GiB read, and the
 * thread's CPU per 512 MiB fell from 0.91–1.03 s to 0.44–0.48 s (docs/adr/023). Memory does not
 * grow for it: the Buffers die young either way (peak RSS 130 MiB with and without).
 */
export const THREAD_INITIAL_OLD_SPACE_MIB = 64;

const FLAG = '--initial-old-space-size';
let sized = false;

/**
 * Gives every thread started from now on in this process the larger first limit. A V8 flag is
 * read when a heap is made: it cannot change this thread's heap, but it does reach the isolates
 * of worker threads created afterwards. A size given on Node's command line is left as it is.
 */
export function sizeThreadHeaps(): void {
  if (sized) return;
  sized = true;
  if (process.execArgv.some((arg) => arg.startsWith(FLAG))) return;
  setFlagsFromString(`${FLAG}=${THREAD_INITIAL_OLD_SPACE_MIB}`);
}

/** Whether `sizeThreadHeaps()` has run in this process (for tests and diagnostics). */
export function threadHeapsSized(): boolean {
  return sized;
}
