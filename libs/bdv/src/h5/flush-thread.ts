import type { Worker } from 'node:worker_threads';
import { threadEntryUrl } from '../thread-entry.js';
import { startHelperThread } from './helper-thread.js';
import { dropsCachedPages } from './native-memory.js';

const THREAD_ENTRY = threadEntryUrl(import.meta.url, 'flush-thread-entry.js');

/** Slots of the state shared with the thread (Int32Array indices). */
export const FLUSH_BUSY = 0;
export const FLUSHES_DONE = 1;
export const PAGES_DROPPED = 2;
const SLOTS = 3;

/**
 * Starts the disk on files being written, from a thread of its own: one `fdatasync` at a time on
 * a path it is handed. Why a thread: an fdatasync on libuv's pool reports its end through this
 * thread's event loop, which a view's writing rarely gives back (slabs read ahead resolve without
 * a turn), so the next flush began ~200 ms late and the commit's fsync still waited for ~100–350 ms
 * of 512 MiB (strace). Here the thread marks itself idle in shared memory and the writer, between
 * two HDF5 calls, sees it at once. Errors are ignored: this only starts writeback early; the fsync
 * at commit reports errors and gives durability.
 *
 * After each fdatasync the thread drops from the page cache the pages of what the file grew by
 * since (unless `dropPages` is false): the next writes then reuse them instead of fresh memory,
 * which is what a long uncompressed write spends most of its time on (docs/adr/027).
 */
export class FlushThread {
  private worker: Worker | undefined;
  private failed = false;
  private readonly state = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));

  constructor(private readonly dropPages = dropsCachedPages()) {}

  /** Asks for an fdatasync of `path`; dropped (false) while one is still running. */
  request(path: string): boolean {
    if (this.failed || Atomics.compareExchange(this.state, FLUSH_BUSY, 0, 1) !== 0) return false;
    const worker = this.start();
    if (!worker) return false;
    worker.postMessage(path);
    return true;
  }

  /** Starts the thread now (it takes ~0.1 s of the other core): see HeapSlabWriter.expect. */
  warm(): void {
    this.start();
  }

  /** Flushes finished since the thread started (tests look at it). */
  get done(): number {
    return Atomics.load(this.state, FLUSHES_DONE);
  }

  /** Flushes after which the pages the file grew by were dropped (tests look at it). */
  get dropped(): number {
    return Atomics.load(this.state, PAGES_DROPPED);
  }

  private start(): Worker | undefined {
    if (this.worker || this.failed) return this.worker;
    // A thread that cannot start or dies: flushing stops, writing goes on (the commit still fsyncs).
    this.worker = startHelperThread(
      THREAD_ENTRY,
      { state: this.state.buffer, dropPages: this.dropPages },
      () => {
        this.failed = true;
        this.worker = undefined;
      },
    );
    return this.worker;
  }
}

let shared: FlushThread | undefined;

/** This thread's flush thread (its worker starts when warmed or at its first request). */
export function flushThread(): FlushThread {
  shared ??= new FlushThread();
  return shared;
}
