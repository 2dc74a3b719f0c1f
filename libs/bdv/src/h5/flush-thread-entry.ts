import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { FLUSH_BUSY, FLUSHES_DONE, PAGES_DROPPED } from './flush-thread.js';
import { nativeMemory } from './native-memory.js';

// The flush thread (see flush-thread.ts): each message is a path to fdatasync now.
const data = workerData as { state: SharedArrayBuffer; dropPages: boolean };
const state = new Int32Array(data.state);
// Without the binding (or one built before dropCachedPages) pages stay cached: slower only.
const memory = data.dropPages ? nativeMemory() : undefined;

parentPort?.on('message', (path: string) => {
  try {
    // Its own descriptor: the writer may close and rename the file meanwhile (the inode stays).
    const fd = openSync(path, 'r');
    try {
      fdatasyncSync(fd);
      // What the fdatasync wrote back is clean now: freed, it becomes the next writes' memory.
      if (memory?.dropCachedPages?.(fd) === 0) Atomics.add(state, PAGES_DROPPED, 1);
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
