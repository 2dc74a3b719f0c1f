import { setFlagsFromString } from 'node:v8';

/**
 * The old generation's first allocation limit, in MiB, for the threads started after
 * `sizeThreadHeaps()`. A thread streaming an object from S3 receives a fresh 64 KiB Buffer per
 * socket read; with V8's default first limit (small where the heap holds little: 8 MiB held,
 * 20 MiB limit in a process that had loaded the AWS SDK) V8 ran a full collection every few MiB
 * received, 21–35 per 512 MiB, about half of the reading thread's CPU. From 64 MiB on (32 was
 * not enough) that stops: reading 512 MiB cost 0.44–0.48 s of CPU instead of 0.91–1.03 s, with
 * the same peak RSS (docs/adr/023).
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
