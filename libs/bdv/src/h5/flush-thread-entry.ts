import { closeSync, fdatasyncSync, fstatSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { FLUSH_BUSY, FLUSHES_DONE, PAGES_DROPPED } from './flush-thread.js';
import { nativeMemory } from './native-memory.js';

// The flush thread (see flush-thread.ts): each message is a path to fdatasync now.
const data = workerData as { state: SharedArrayBuffer; dropPages: boolean };
const state = new Int32Array(data.state);
// Without the binding (or one built before dropCachedPages) pages stay cached: slower only.
const drop = data.dropPages ? nativeMemory()?.dropCachedPages : undefined;
// The file last flushed (device and inode: its path may be renamed or reused) and the bytes of it
// whose pages were let go. Only what grew since is dropped: HDF5 appends chunks, and a range that
// still holds dirty pages (headers HDF5 rewrote) makes Linux drain every CPU's page lists to retry.
let last = { dev: -1n, ino: -1n, droppedUpTo: 0 };

/** Lets the page cache go of the part of `fd` flushed since the last call for it (docs/adr/027). */
function dropFlushed(fd: number, size: number, dev: bigint, ino: bigint): void {
  if (!drop) return;
  const from = last.dev === dev && last.ino === ino ? Math.min(last.droppedUpTo, size) : 0;
  last = { dev, ino, droppedUpTo: size };
  if (size > from && drop(fd, from, size - from) === 0) Atomics.add(state, PAGES_DROPPED, 1);
}

parentPort?.on('message', (path: string) => {
  try {
    // Its own descriptor: the writer may close and rename the file meanwhile (the inode stays).
    const fd = openSync(path, 'r');
    try {
      // The size before the flush: every byte below it is on disk once fdatasync returns.
      const { size, dev, ino } = fstatSync(fd, { bigint: true });
      fdatasyncSync(fd);
      // Clean now: freed, those pages become the next writes' memory.
      dropFlushed(fd, Number(size), dev, ino);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Only an early start of writeback: the commit's fsync reports what went wrong.
  } finally {
    Atomics.add(state, FLUSHES_DONE, 1);
    Atomics.store(state, FLUSH_BUSY, 0);
  }
});
