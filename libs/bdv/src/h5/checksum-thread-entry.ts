import { crc32, nativeDeflate } from './native-deflate.js';
import { parentPort, workerData } from 'node:worker_threads';
import { CHECKSUM_DONE, CHECKSUM_FAILED, CHECKSUM_VALUE, type ChecksumRequest } from './checksum-thread.js';

// The checksum thread (see checksum-thread.ts): each message is a slab of a shared heap to fold
// into a running CRC-32. The writer waits on CHECKSUM_DONE, not on a reply: its event loop is
// not turning while it writes.
parentPort?.on('message', ({ heap, state, at, length }: ChecksumRequest) => {
  const slots = new Int32Array(state);
  try {
    const value = crc32(new Uint8Array(heap, at, length), Atomics.load(slots, CHECKSUM_VALUE) >>> 0);
    Atomics.store(slots, CHECKSUM_VALUE, value | 0);
  } catch {
    Atomics.store(slots, CHECKSUM_FAILED, 1);
  } finally {
    Atomics.add(slots, CHECKSUM_DONE, 1);
    Atomics.notify(slots, CHECKSUM_DONE);
  }
});

// libdeflate is loaded before the thread says it is ready, not at its first slab: loading it took
// ~30-50 ms, which the writer then spent waiting for that slab's CRC, at the start of every view.
nativeDeflate();
Atomics.store(new Int32Array((workerData as { ready: SharedArrayBuffer }).ready), 0, 1);
