import { describe, expect, it } from 'vitest';
import { warmWritingThreads } from '../src/index.js';
import { checksumThread } from '../src/h5/checksum-thread.js';
import { until } from './heap-slab-stack.js';

// A conversion starts the writing thread's helpers as soon as it knows the input's size (the
// CLI, after reading headers), so their start-up runs while HDF5 loads: the checksum thread is
// then up for the first slab. Below the size that uses it, no thread is started.

const MIB = 1 << 20;

describe('warmWritingThreads', () => {
  it('starts no checksum thread for a stack too small to use it', async () => {
    warmWritingThreads(64 * MIB - 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(checksumThread().ready).toBe(false);
  });

  it('starts the checksum thread for a 64 MiB stack before any HDF5 file is opened', async () => {
    warmWritingThreads(64 * MIB);
    await until(() => checksumThread().ready, 10_000);
    expect(checksumThread().posted, 'nothing asked of it yet').toBe(0);
  });
});
