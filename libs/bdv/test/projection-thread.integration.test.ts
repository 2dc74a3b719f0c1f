import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beadStack } from '../../../test/support/bead-stacks.js';
import { holdLock } from '../../../test/support/lock-holder.js';
import { tempDir } from '../../../test/support/oracle.js';
import { BdvWriter } from '../src/index.js';
import { WriterFence, fenceFileOf } from '../src/h5/writer-fence.js';
import {
  ProjectionThread,
  ProjectionThreadStuck,
  projectViewsOfFile,
  type PreviewSource,
} from '../src/preview/index.js';

// The API's previews read on a thread of their own: the same images as read in-process, errors
// that keep their codes, and an abort that takes a stuck read's thread (and its fence) down.

const dir = tempDir('bdv-projection-thread-');
const h5 = join(dir.path, 'beads.h5');
const thread = new ProjectionThread();
afterAll(async () => {
  await thread.close();
  dir.remove();
});

beforeAll(async () => {
  const writer = await BdvWriter.create(h5, {
    setup: { channels: 2 },
    subsamplingZyx: [
      [1, 1, 1],
      [1, 2, 2],
    ],
    blockSizeZyx: [[4, 64, 64]],
    compression: 'gzip',
  });
  await writer.appendView(beadStack([8, 300, 400], [{ z: 2, y: 100, x: 200, size: 10, value: 30000 }]), {
    channel: 0,
  });
  await writer.appendView(beadStack([8, 300, 400], [{ z: 5, y: 200, x: 50, size: 10, value: 20000 }]), {
    channel: 1,
  });
  await writer.close();
});

const source = (setupId: number, appendable = true): PreviewSource => ({
  h5Path: h5,
  time: 0,
  setupId,
  appendable,
});

/** A process holding the file's fence (as a writer appending a view would) until killed. */
const holdFence = () => holdLock(fenceFileOf(h5), 60);

describe('ProjectionThread', () => {
  it('reads the same images as an in-process read, handed over as Uint16Array', async () => {
    const options = { axis: 'x' as const, maxSize: 256 };
    const here = await projectViewsOfFile([source(0), source(1)], options);
    const there = await thread.project([source(0), source(1)], options);
    expect(there.map((p) => [p.level, p.shrink, p.width, p.height])).toEqual(
      here.map((p) => [p.level, p.shrink, p.width, p.height]),
    );
    expect(there[0]!.pixels).toBeInstanceOf(Uint16Array);
    expect(Math.max(...there[0]!.pixels)).toBe(30000);
    there.forEach((p, i) => expect(p.pixels).toEqual(here[i]!.pixels));
  });

  it('rejects with the BdvError the read threw: code and field kept', async () => {
    await expect(thread.project([{ ...source(0), h5Path: join(dir.path, 'gone.h5') }])).rejects.toMatchObject(
      {
        name: 'BdvError',
        code: 'STATE',
        field: 'view',
      },
    );
    // with the stack of where it was thrown, on the thread
    const gone = await thread
      .project([{ ...source(0), h5Path: join(dir.path, 'gone.h5') }])
      .catch((e: Error) => e);
    expect((gone as Error).stack).toContain('view-projection');
    await expect(thread.project([source(0)], { maxSize: 3 })).rejects.toMatchObject({
      code: 'OUT_OF_RANGE',
      field: 'size',
    });
    const fence = await holdFence();
    try {
      await expect(thread.project([source(0)])).rejects.toMatchObject({ code: 'FILE_LOCKED' });
    } finally {
      fence.release();
    }
  });

  it('stops a read that waits when its caller aborts, and reads again on a fresh thread', async () => {
    const fence = await holdFence();
    try {
      const control = new AbortController();
      const started = Date.now();
      const read = thread.project([source(0)], { waitMs: 30_000 }, control.signal);
      setTimeout(() => control.abort(new Error('took too long')), 300);
      await expect(read).rejects.toThrow('took too long');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(thread.running).toBe(false);
    } finally {
      fence.release();
    }
    // the stopped read's own lock request does not keep the fence once it gets it
    const writer = await WriterFence.acquire(h5, { waitSeconds: 5 });
    await writer?.release();
    // a partition-like read (no fence) right after: a new thread serves it
    expect((await thread.project([source(1, false)]))[0]!.level).toBe(0);
    expect(thread.running).toBe(true);
  });

  it('refuses reads while a stopped one is stuck in the kernel, and closes without waiting for it', async () => {
    // a FIFO with no writer: opening it blocks in the kernel, as a read of a hung network volume
    const fifo = join(dir.path, 'hung.h5');
    execFileSync('mkfifo', [fifo]);
    const unblock = () => closeSync(openSync(fifo, 'w')); // its open returns, its read ends
    const stuck = new ProjectionThread({ stuckAfterMs: 300 });
    const control = new AbortController();
    const read = stuck.project([{ ...source(0, false), h5Path: fifo }], {}, control.signal);
    await new Promise((r) => setTimeout(r, 500));
    control.abort(new Error('overrun'));
    await expect(read).rejects.toThrow('overrun');
    expect(stuck.stoppingThreads).toBe(1); // terminate cannot end a system call
    await new Promise((r) => setTimeout(r, 400));
    await expect(stuck.project([source(1, false)])).rejects.toBeInstanceOf(ProjectionThreadStuck);
    unblock();
    for (let i = 0; i < 100 && stuck.stoppingThreads > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(stuck.stoppingThreads).toBe(0);
    expect((await stuck.project([source(1, false)]))[0]!.level).toBe(0);
    // stuck again, then closed: close() gives up waiting instead of hanging a server's shutdown
    void stuck.project([{ ...source(0, false), h5Path: fifo }]).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    const closing = Date.now();
    await stuck.close();
    expect(Date.now() - closing).toBeLessThan(4000);
    unblock();
  });

  it('stops when idle', async () => {
    const idle = new ProjectionThread({ idleMs: 200 });
    await idle.project([source(0, false)]);
    expect(idle.running).toBe(true);
    await new Promise((r) => setTimeout(r, 600));
    expect(idle.running).toBe(false);
    await idle.close();
  });
});

describe('a fence taken on a thread', () => {
  it('is let go when the thread is terminated', async () => {
    // what an aborted read holding a single-layout file's fence relies on
    const fenceModule = new URL('../dist/h5/writer-fence.js', import.meta.url).href;
    const worker = new Worker(
      `import(${JSON.stringify(fenceModule)}).then(async ({ WriterFence }) => {
         await WriterFence.acquire(${JSON.stringify(h5)});
         require('node:worker_threads').parentPort.postMessage('held');
       });`,
      { eval: true },
    );
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await expect(WriterFence.acquire(h5, { waitSeconds: 0 })).rejects.toMatchObject({ code: 'FILE_LOCKED' });
    await worker.terminate();
    const fence = await WriterFence.acquire(h5, { waitSeconds: 2 });
    await fence?.release();
  });
});
