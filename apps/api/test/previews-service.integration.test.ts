import 'reflect-metadata';
import { join } from 'node:path';
import { BdvWriter, fenceFileOf } from '@bdv-cluster/bdv';
import type { DatasetStore } from '@bdv-cluster/pipeline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { beadStack } from '../../../test/support/bead-stacks.js';
import { holdLock } from '../../../test/support/lock-holder.js';
import { tempDir } from '../../../test/support/oracle.js';
import { PreviewsService } from '../src/previews/previews.service.js';
import { PreviewReadQueue } from '../src/previews/read-queue.js';

// The service's wiring of its queue to its thread: a read that overruns is answered 503 and its
// thread stopped (the queue's signal reaches the thread), and the next read is served.

const dir = tempDir('bdv-previews-service-');
const h5 = join(dir.path, 'single.h5');
const view = {
  viewKey: 't0-i0-c0-s0-a0',
  state: 'done',
  setupId: 0,
  spec: { time: 0 },
  result: { checksums: [{ level: 0, crc32: '00000001', shapeZyx: [8, 200, 300] }] },
};
const store = {
  getDataset: async () => ({ id: 'd', files: { h5 } }),
  getView: async () => view,
} as unknown as DatasetStore;
const service = new PreviewsService(store, { PREVIEW_QUEUE_VIEWS: 8, PREVIEW_QUEUE_WAIT_SECONDS: 30 });

beforeAll(async () => {
  const writer = await BdvWriter.create(h5, { subsamplingZyx: [[1, 1, 1]], blockSizeZyx: [[4, 64, 64]] });
  await writer.appendView(beadStack([8, 200, 300], [{ z: 3, y: 50, x: 60, size: 8, value: 9000 }]));
  await writer.close();
});
afterAll(async () => {
  await service.onModuleDestroy();
  dir.remove();
});

it('answers an overrunning read 503, stops its thread, and serves the next read', async () => {
  const internals = service as unknown as { reads: PreviewReadQueue; thread: { running: boolean } };
  internals.reads = new PreviewReadQueue({ maxViews: 8, waitMs: 30_000, runMs: 300 });
  // a writer holds the single file's fence: the read waits for it (5 s) past its 300 ms
  const holder = await holdLock(fenceFileOf(h5));
  try {
    const started = Date.now();
    await expect(service.viewPreview('d', view.viewKey, { axis: 'z', size: 512 })).rejects.toMatchObject({
      status: 503,
      message: expect.stringContaining('takes too long'),
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(internals.thread.running).toBe(false); // stopped, not left waiting on the fence
  } finally {
    holder.release();
  }
  // The next read starts a new thread, which loads HDF5 first: more than 300 ms on a busy machine.
  internals.reads = new PreviewReadQueue({ maxViews: 8, waitMs: 30_000, runMs: 30_000 });
  const answer = await service.viewPreview('d', view.viewKey, { axis: 'z', size: 512 });
  expect(answer.png.length).toBeGreaterThan(100);
});

it('reads a preview once for everyone who asked, and drops it from the queue only when all of them left', async () => {
  const internals = service as unknown as { reads: PreviewReadQueue };
  internals.reads = new PreviewReadQueue({ maxViews: 8, waitMs: 30_000, runMs: 30_000 });
  // a writer holds the single file: the first read (axis x) waits for it, the next ones queue
  const holder = await holdLock(fenceFileOf(h5));
  const firstGone = new AbortController();
  const first = service.viewPreview('d', view.viewKey, { axis: 'x', size: 64 }, firstGone.signal);
  const [a, b, c] = [new AbortController(), new AbortController(), new AbortController()];
  let rejoined: ReturnType<PreviewsService['viewPreview']> | undefined;
  try {
    await new Promise((r) => setTimeout(r, 100));
    // two callers of one projection (axis y) share one queued read; a third one (axis z) is alone
    const shared = [a, b].map((gone) =>
      service.viewPreview('d', view.viewKey, { axis: 'y', size: 64 }, gone.signal),
    );
    const alone = service.viewPreview('d', view.viewKey, { axis: 'z', size: 64 }, c.signal);
    await new Promise((r) => setTimeout(r, 50)); // each looks its view up before it queues
    expect(internals.reads.length).toBe(3);
    a.abort();
    c.abort();
    await expect(alone).rejects.toMatchObject({ status: 503, message: expect.stringContaining('cancelled') });
    expect(internals.reads.length).toBe(2); // z dropped; y kept for the caller still there
    b.abort();
    await expect(shared[1]).rejects.toMatchObject({ status: 503 });
    await expect(shared[0]).rejects.toMatchObject({ status: 503 });
    expect(internals.reads.length).toBe(1); // only the read that is running
    // everyone asking for the running read (axis x) leaves and a new caller comes: it shares the
    // read rather than queueing a second one
    firstGone.abort();
    rejoined = service.viewPreview('d', view.viewKey, { axis: 'x', size: 64 }, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 50));
    expect(internals.reads.length).toBe(1);
  } finally {
    holder.release();
  }
  expect((await first).png.length).toBeGreaterThan(100);
  expect((await rejoined!).png.length).toBeGreaterThan(100);
  expect(internals.reads.length).toBe(0);
  // asked again, the dropped projection is read now, for the new caller
  const again = await service.viewPreview(
    'd',
    view.viewKey,
    { axis: 'y', size: 64 },
    new AbortController().signal,
  );
  expect(again.png.length).toBeGreaterThan(100);
});
