import { DatasetSpec } from '@bdv-cluster/contract';
import { describe, expect, it } from 'vitest';
import { FINALIZE_WAITING_KEY } from '../src/index.js';
import { storeForTests, viewKeyOf, viewResult, viewSpecOf } from './store-fixture.js';

// What a finalize may find and how the state takes it (Lua, real Redis, own key prefix): written
// views that no longer read back, a dataset cancelled or lost under it, an outage it waits out;
// and a view reported done after it had failed.
const { store } = storeForTests();
const key = viewKeyOf;
const view = viewSpecOf;
const result = viewResult(10, 0.1);

/** A dataset of `n` views, all written, its finalize (generation 1) under way. */
async function finalizing(name: string, n: number) {
  const d = (await store.createDataset(DatasetSpec.parse({ name, setup: { tiles: n } }), {
    h5: `/out/${name}/${name}.h5`,
    xml: `/out/${name}/${name}.xml`,
  }))!;
  for (let tile = 0; tile < n; tile++) await store.addView(d, view(tile));
  await store.requestFinalize(d.id, {});
  let generation: number | undefined;
  for (let tile = 0; tile < n; tile++) {
    await store.startView(d.id, key(tile));
    generation = await store.completeView(d.id, key(tile), result);
  }
  expect(generation).toBe(1);
  return d;
}

const viewsFailed = async () => (await store.stats()).viewsFailed ?? 0;

describe('views that do not read back at finalize', () => {
  it('become failed views with what was found, the dataset failed; retried, it is written again', async () => {
    const d = await finalizing('lost-partition', 3);
    const failedBefore = await viewsFailed();
    const lost = `finalize verification: t0 s1 (lost-partition-t00000-s01.h5): does not exist`;
    expect(
      await store.failUnverifiedViews(d.id, 1, 'verification failed: 1 written view lost', [
        { viewKey: key(1), reason: lost },
      ]),
    ).toBe(true);

    const failed = (await store.getDataset(d.id))!;
    expect(failed.status).toBe('failed');
    expect(failed.views).toMatchObject({ done: 2, failed: 1, queued: 0, running: 0 });
    expect(failed.errors).toEqual([
      `${key(1)}: ${lost}`,
      'finalize: verification failed: 1 written view lost',
    ]);
    const entry = (await store.getView(d.id, key(1)))!;
    expect([entry.state, entry.error, entry.result]).toEqual(['failed', lost, undefined]);
    expect((await viewsFailed()) - failedBefore).toBe(1);

    // Not a settled generation's to change any more, nor another's.
    expect(await store.failUnverifiedViews(d.id, 1, 'again', [{ viewKey: key(0), reason: 'x' }])).toBe(false);
    expect((await store.getDataset(d.id))!.views).toMatchObject({ done: 2, failed: 1 });

    // The way back: retry the view, and the dataset finalizes again once it is written.
    expect(await store.retryView(d.id, key(1))).toEqual({ ok: true, before: 'failed' });
    const retried = (await store.getDataset(d.id))!;
    expect([retried.status, retried.errors]).toEqual(['writing', []]);
    await store.startView(d.id, key(1));
    expect(await store.completeView(d.id, key(1), result)).toBe(2);
    expect(await store.completeFinalize(d.id, 2, d.files)).toBe(true);
    expect((await store.getDataset(d.id))!.views).toMatchObject({ done: 3, failed: 0 });
  });

  it('finalized again instead, the dataset completes with them missing and their lines kept', async () => {
    const d = await finalizing('publish-without', 2);
    await store.failUnverifiedViews(d.id, 1, 'verification failed', [{ viewKey: key(0), reason: 'gone' }]);
    expect(await store.requestFinalize(d.id, {})).toBe(2);
    expect(await store.completeFinalize(d.id, 2, d.files)).toBe(true);
    const done = (await store.getDataset(d.id))!;
    expect([done.status, done.errors, done.views.failed]).toEqual(['complete', [`${key(0)}: gone`], 1]);
  });
});

describe('where a finalize stands', () => {
  it('current, superseded, cancelled or gone', async () => {
    const d = await finalizing('standing', 1);
    expect(await store.finalizeStanding(d.id, 1)).toBe('current');
    expect(await store.finalizeStanding(d.id, 2)).toBe('superseded');
    await store.cancelDataset(d.id, false);
    expect(await store.finalizeStanding(d.id, 1)).toBe('cancelled');
    expect(await store.finalizeStanding('no-such-dataset', 1)).toBe('gone');
    const settled = await finalizing('standing-settled', 1);
    await store.completeFinalize(settled.id, 1, settled.files);
    expect(await store.finalizeStanding(settled.id, 1)).toBe('superseded');
  });

  it('a finalize waiting out an outage is listed until it settles or the dataset is cancelled', async () => {
    for (const end of ['complete', 'fail', 'cancel'] as const) {
      const d = await finalizing(`waiting-${end}`, 1);
      await store.noteWaiting(d.id, FINALIZE_WAITING_KEY, 'waiting: output volume full');
      expect((await store.getDataset(d.id))!.waiting).toEqual({ finalize: 'waiting: output volume full' });
      if (end === 'complete') await store.completeFinalize(d.id, 1, d.files);
      else if (end === 'fail') await store.failFinalize(d.id, 1, 'no');
      else await store.cancelDataset(d.id, false);
      expect((await store.getDataset(d.id))!.waiting, end).toEqual({});
    }
  });
});

describe('a view reported done after it had failed', () => {
  it('is done, and its failure leaves the errors', async () => {
    const d = (await store.createDataset(DatasetSpec.parse({ name: 'late-done', setup: { tiles: 2 } }), {
      h5: '/out/late-done/late-done.h5',
      xml: '/out/late-done/late-done.xml',
    }))!;
    for (const tile of [0, 1]) {
      await store.addView(d, view(tile));
      await store.startView(d.id, key(tile));
    }
    await store.failView(d.id, key(0), 'job stalled more than allowable limit');
    await store.failView(d.id, key(1), 'not a valid .npy file');
    await store.completeView(d.id, key(0), result);
    const now = (await store.getDataset(d.id))!;
    expect(now.views).toMatchObject({ done: 1, failed: 1 });
    expect(now.errors).toEqual([`${key(1)}: not a valid .npy file`]);
    expect((await store.getView(d.id, key(0)))!.error).toBeUndefined();
  });
});
