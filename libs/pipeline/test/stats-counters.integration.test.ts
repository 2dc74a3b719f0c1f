import { DatasetSpec } from '@bdv-cluster/contract';
import { describe, expect, it } from 'vitest';
import { storeForTests, viewKeyOf, viewResult, viewSpecOf } from './store-fixture.js';

// The cluster-wide counters behind /metrics (`<prefix>:stats`) and the per-dataset view counts
// move with transitions only: settling a view again, or settling it after it was cancelled,
// counts nothing. Real Redis, own key prefix.
const { store } = storeForTests();
const key = viewKeyOf;
const view = viewSpecOf;
const result = viewResult(1000, 0.5);

async function runningViews(name: string, n: number) {
  const d = (await store.createDataset(DatasetSpec.parse({ name, setup: { tiles: n } }), {
    h5: `/out/${name}/${name}.h5`,
    xml: `/out/${name}/${name}.xml`,
  }))!;
  for (let tile = 0; tile < n; tile++) {
    await store.addView(d, view(tile));
    await store.startView(d.id, key(tile));
  }
  return d;
}

const stats = async () => {
  const { viewsWritten = 0, viewsFailed = 0, bytesWritten = 0, writeSeconds = 0 } = await store.stats();
  return { viewsWritten, viewsFailed, bytesWritten, writeSeconds };
};

describe('view counters count transitions only', () => {
  it('a view failed twice (processor, then the job-failed event) counts once', async () => {
    const before = await stats();
    const d = await runningViews('fail-twice', 2);
    await store.failView(d.id, key(0), 'not a valid .npy file');
    await store.failView(d.id, key(0), 'not a valid .npy file');
    await Promise.all([store.failView(d.id, key(1), 'a'), store.failView(d.id, key(1), 'b')]);
    expect((await stats()).viewsFailed - before.viewsFailed).toBe(2);
    expect((await store.getDataset(d.id))!.views).toMatchObject({ running: 0, failed: 2 });
  });

  it('a view completed twice, or completed after it failed or was cancelled, is written once', async () => {
    const before = await stats();
    const d = await runningViews('done-twice', 3);
    await store.completeView(d.id, key(0), result);
    await store.completeView(d.id, key(0), result); // a duplicate job's report
    await store.failView(d.id, key(0), 'late failure'); // a done view stays done
    await store.completeView(d.id, 't9-i0-c0-s0-a0', result); // no such view
    const after = await stats();
    expect(after.viewsWritten - before.viewsWritten).toBe(1);
    expect(after.bytesWritten - before.bytesWritten).toBe(1000);
    expect(after.writeSeconds - before.writeSeconds).toBeCloseTo(0.5, 9);
    expect(after.viewsFailed - before.viewsFailed).toBe(0);

    // Cancelled: the running views' reports cancel them, nothing is written or failed.
    await store.cancelDataset(d.id, false);
    await store.completeView(d.id, key(1), result);
    await store.failView(d.id, key(2), 'aborted');
    await store.cancelView(d.id, key(1));
    await store.cancelView(d.id, key(2));
    expect(await stats()).toEqual(after);
    expect((await store.getDataset(d.id))!.views).toMatchObject({ running: 0, done: 1, cancelled: 2 });
  });

  it('a retry moves a failed view once; retrying it again is refused and counts nothing', async () => {
    const d = await runningViews('retry-twice', 1);
    await store.failView(d.id, key(0), 'bad');
    expect(await store.retryView(d.id, key(0))).toMatchObject({ ok: true });
    expect(await store.retryView(d.id, key(0))).toMatchObject({ ok: false, reason: 'NOT_FAILED' });
    expect((await store.getDataset(d.id))!.views).toMatchObject({ queued: 1, failed: 0 });
  });
});
