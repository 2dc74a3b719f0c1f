import { DatasetSpec } from '@bdv-cluster/contract';
import { describe, expect, it } from 'vitest';
import { datasetStatusJson } from '../src/index.js';
import { storeForTests, viewKeyOf, viewResult, viewSpecOf } from './store-fixture.js';

// The cancel, retry, pyramid and notify transitions (Lua) against a real Redis, own key prefix.
const { store } = storeForTests();
const key = viewKeyOf;
const view = viewSpecOf;
const result = viewResult(12, 0.1);

async function dataset(name: string, extra: Record<string, unknown> = {}) {
  return (await store.createDataset(DatasetSpec.parse({ name, setup: { tiles: 4 }, ...extra }), {
    h5: `/out/${name}/${name}.h5`,
    xml: `/out/${name}/${name}.xml`,
  }))!;
}

/** A dataset whose one view failed, and then its finalize (nothing to write). */
async function failedDataset(name: string) {
  const d = await dataset(name);
  await store.addView(d, view(0));
  await store.startView(d.id, key(0));
  await store.requestFinalize(d.id, {});
  await store.failView(d.id, key(0), 'bad');
  await store.failFinalize(d.id, 1, 'no view was written');
  return d;
}

describe('cancel transitions', () => {
  it('cancels queued views at once, running ones when their writer stops; then frees the name', async () => {
    const d = await dataset('Cancel-Me');
    for (const tile of [0, 1, 2]) await store.addView(d, view(tile));
    expect(await store.startView(d.id, key(0))).toBe('OK');
    await store.completeView(d.id, key(0), result);
    expect(await store.startView(d.id, key(1))).toBe('OK');

    const cancel = await store.cancelDataset(d.id, false);
    expect(cancel).toEqual({ ok: true, before: 'writing', generation: 0, cancelledQueued: [key(2)] });
    let now = (await store.getDataset(d.id))!;
    expect(now.status).toBe('cancelling');
    expect(now.views).toMatchObject({ queued: 0, running: 1, done: 1, cancelled: 1 });

    // nothing new: no view added, started, finalized
    expect((await store.addView(d, view(3))).ok).toBe(false);
    expect(await store.startView(d.id, key(2))).toBe('CANCELLED');
    expect(await store.requestFinalize(d.id, {})).toBe('CANCELLED');
    // the running view's writer cannot free the name while it runs
    expect(await store.finishCancel(d.id, d.name)).toBe(false);
    // a writer that finishes anyway is cancelled, not done
    expect(await store.completeView(d.id, key(1), result)).toBeUndefined();
    now = (await store.getDataset(d.id))!;
    expect(now.views).toMatchObject({ running: 0, done: 1, cancelled: 2 });

    expect(await store.idByName('cancel-me')).toBe(d.id);
    expect(await store.finishCancel(d.id, d.name)).toBe(true);
    expect((await store.getDataset(d.id))!.status).toBe('cancelled');
    expect(await store.idByName('cancel-me')).toBeUndefined();
    // the name is free again; the cancelled record stays readable
    expect(await dataset('cancel-me')).toBeDefined();
    expect(await store.cancelDataset(d.id, false)).toEqual({ ok: false, reason: 'CANCELLED' });
  });

  it('refuses a complete dataset unless purged', async () => {
    const d = await dataset('complete-one');
    await store.addView(d, view(0));
    await store.startView(d.id, key(0));
    await store.completeView(d.id, key(0), result);
    const g = await store.requestFinalize(d.id, {});
    expect(typeof g).toBe('number');
    expect(await store.completeFinalize(d.id, g as number, d.files)).toBe(true);
    expect(await store.cancelDataset(d.id, false)).toEqual({ ok: false, reason: 'COMPLETE' });
    expect(await store.cancelDataset(d.id, true)).toMatchObject({ ok: true, before: 'complete' });
  });

  it('a view whose writer is gone is cancelled by the canceller', async () => {
    const d = await dataset('stale-writer');
    await store.addView(d, view(0));
    await store.startView(d.id, key(0));
    expect(await store.cancelView(d.id, key(0))).toBe(false); // not while the dataset is not cancelling
    await store.cancelDataset(d.id, false);
    expect(await store.viewKeysIn(d.id, 'running')).toEqual([key(0)]);
    expect(await store.cancelView(d.id, key(0))).toBe(true);
    expect(await store.finishCancel(d.id, d.name)).toBe(true);
  });
});

describe('retry transition', () => {
  it('re-queues a failed view, clears its error and re-finalizes a complete dataset', async () => {
    const d = await dataset('retry-me');
    for (const tile of [0, 1]) {
      await store.addView(d, view(tile));
      await store.startView(d.id, key(tile));
    }
    await store.requestFinalize(d.id, {});
    await store.completeView(d.id, key(0), result);
    const g = await store.failView(d.id, key(1), 'source went away');
    expect(g).toBe(1);
    await store.completeFinalize(d.id, 1, d.files);
    expect((await store.getDataset(d.id))!.errors).toEqual([`${key(1)}: source went away`]);

    expect(await store.retryView(d.id, key(0))).toEqual({ ok: false, reason: 'NOT_FAILED', state: 'done' });
    expect(await store.retryView(d.id, 't9-i0-c0-s0-a0')).toMatchObject({ ok: false, reason: 'NO_VIEW' });
    expect(await store.retryView(d.id, key(1))).toEqual({ ok: true, before: 'complete' });
    const now = (await store.getDataset(d.id))!;
    expect(now).toMatchObject({ status: 'writing', errors: [] });
    expect(now.views).toMatchObject({ queued: 1, failed: 0, done: 1 });
    expect((await store.getView(d.id, key(1)))!.error).toBeUndefined();
    // the view settles: a new finalize generation for the new XML
    await store.startView(d.id, key(1));
    expect(await store.completeView(d.id, key(1), result)).toBe(2);
  });

  it("drops a failed view's error, and a failed finalize, when the view is submitted again", async () => {
    const d = await dataset('resubmit-failed');
    for (const tile of [0, 1]) {
      await store.addView(d, view(tile));
      await store.startView(d.id, key(tile));
    }
    await store.failView(d.id, key(0), 'header unreadable');
    await store.failView(d.id, key(1), 'source went away');
    await store.requestFinalize(d.id, {});
    await store.failFinalize(d.id, 1, 'no view was written');
    expect((await store.getDataset(d.id))!.errors).toHaveLength(3);
    // a batch re-run (reopen) submits view 0 again
    expect(await store.addView(d, view(0), true)).toMatchObject({ ok: true, reopened: true });
    const now = (await store.getDataset(d.id))!;
    expect(now).toMatchObject({ status: 'writing', errors: [`${key(1)}: source went away`] });
    expect(now.views).toMatchObject({ queued: 1, failed: 1 });
  });

  it('drops a failed finalize once the dataset is written again, whichever view comes first', async () => {
    const d = await failedDataset('rerun-new-first');
    // a re-run adds a new view before it re-adds the failed one
    await store.addView(d, view(1), true);
    await store.addView(d, view(0), true);
    for (const tile of [0, 1]) {
      await store.startView(d.id, key(tile));
      await store.completeView(d.id, key(tile), result);
    }
    expect(await store.getDataset(d.id)).toMatchObject({ status: 'finalizing', errors: [] });

    // finalize asked again of a dataset whose finalize failed: the new attempt starts clean
    const e = await dataset('refinalize');
    await store.addView(e, view(0));
    await store.startView(e.id, key(0));
    await store.completeView(e.id, key(0), result);
    expect(await store.requestFinalize(e.id, {})).toBe(1);
    await store.failFinalize(e.id, 1, 'disk full');
    expect((await store.getDataset(e.id))!.errors).toEqual(['finalize: disk full']);
    expect(await store.requestFinalize(e.id, {})).toBe(2);
    expect(await store.getDataset(e.id)).toMatchObject({ status: 'finalizing', errors: [] });
  });

  it('drops the failed finalize from the errors when a failed dataset is retried', async () => {
    const d = await failedDataset('retry-failed');
    expect((await store.getDataset(d.id))!.status).toBe('failed');
    expect(await store.retryView(d.id, key(0))).toEqual({ ok: true, before: 'failed' });
    expect((await store.getDataset(d.id))!.errors).toEqual([]);
  });
});

describe('auto pyramid and notify target', () => {
  it('stores the first choice only, and shows it', async () => {
    const d = await dataset('auto-levels', { subsamplingZyx: 'auto', blockSizeZyx: 'auto' });
    expect(d.pyramid).toEqual({ auto: ['subsamplingZyx', 'blockSizeZyx'] });
    const first = {
      ...d.spec,
      subsamplingZyx: [
        [1, 1, 1],
        [1, 2, 2],
      ],
      blockSizeZyx: [[4, 32, 32]],
    };
    const choice = { auto: d.pyramid!.auto, fromView: key(0), shapeZyx: [10, 300, 300] };
    expect(await store.choosePyramid(d.id, first as never, choice)).toBe(true);
    expect(await store.choosePyramid(d.id, { ...d.spec } as never, { ...choice, fromView: key(1) })).toBe(
      false,
    );
    const now = (await store.getDataset(d.id))!;
    expect(now.spec.subsamplingZyx).toEqual([
      [1, 1, 1],
      [1, 2, 2],
    ]);
    expect(now.pyramid).toMatchObject({ fromView: key(0), shapeZyx: [10, 300, 300] });
  });

  it('keeps the notify secret apart: never in the record, the spec or the status JSON', async () => {
    const secret = 'a-secret-of-enough-length';
    const d = await dataset('notified', { notify: { url: 'https://hooks.example.org/x', secret } });
    expect(d.notify).toEqual({ url: 'https://hooks.example.org/x', signed: true });
    expect(JSON.stringify(d)).not.toContain(secret);
    expect(JSON.stringify(datasetStatusJson(d))).not.toContain(secret);
    expect(await store.notifySecret(d.id)).toBe(secret);
    await store.noteDelivery(d.id, 'delivered: 200');
    expect((await store.getDataset(d.id))!.notify).toMatchObject({ lastDelivery: 'delivered: 200' });
  });
});
