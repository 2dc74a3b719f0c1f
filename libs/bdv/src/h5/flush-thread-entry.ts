import { closeSync, fdatasyncSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { FLUSH_BUSY, FLUSHES_DONE } from './flush-thread.js';

// The flush thread (see flush-thread.ts): each message is a path to fdatasync now.
const state = new Int32Array((workerData as { state: SharedArrayBuffer }).state);

parentPort?.on('message', (path: string) => {
  try {
    // Its own descriptor: the writer may close and rename the file meanwhile (the inode stays).
    const fd = openSync(path, 'r');
    try {
      fdatasyncSync(fd);
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
