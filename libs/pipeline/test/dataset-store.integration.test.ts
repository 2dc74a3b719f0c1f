import { DatasetSpec } from '@bdv-cluster/contract';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../test/support/seeded-random.js';
import { inViewOrder, ViewKeyOrder } from '../src/view-order.js';
import { DatasetStore, type ViewResult } from '../src/index.js';

// Real Redis (REDIS_URL or the local server); every run uses its own key prefix.
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `test-${randomBytes(4).toString('hex')}`;
const store = new DatasetStore(redis, prefix);
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const result = (time: number, setupId: number): ViewResult => ({
  record: {
    time,
    setupId,
    shapeZyx: [1, 2, 3],
    voxelSizeXyz: [0.1 + 0.2, 1 / 3, 2],
    voxelUnits: 'um',
    calibrationXyz: [1, 1, 1],
    affineName: 'x',
    exposureTime: 0,
    exposureUnits: 's',
  },
  bytes: 12,
  seconds: 0.1,
});

const key = (tile: number, time = 0) => `t${time}-i0-c0-s${tile}-a0`;
const viewSpec = (tile: number, time = 0) => ({
  time,
  illumination: 0,
  channel: 0,
  tile,
  angle: 0,
  source: { uri: 's3://raw/x.npy' },
});

async function datasetWithRunningViews(name: string, n: number) {
  const d = (await store.createDataset(DatasetSpec.parse({ name, setup: { tiles: n } }), {
    h5: '/x.h5',
    xml: '/x.xml',
  }))!;
  for (let tile = 0; tile < n; tile++) {
    expect(await store.addView(d, viewSpec(tile))).toEqual({
      ok: true,
      reopened: false,
      viewKey: key(tile),
      jobId: `${d.id}.${key(tile)}`,
    });
    expect(await store.startView(d.id, key(tile))).toBe('OK');
  }
  return d;
}

describe('dataset state in Redis', () => {
  it('finalizes exactly once when the last views finish at the same moment', async () => {
    for (let round = 0; round < 20; round++) {
      const d = await datasetWithRunningViews(`race-${round}`, 3);
      expect(await store.requestFinalize(d.id, {})).toBeUndefined(); // views still running
      const outcomes = await Promise.all(
        [0, 1, 2].map((t) => store.completeView(d.id, key(t), result(0, t))),
      );
      expect(outcomes.filter((g) => g !== undefined)).toEqual([1]);
      expect((await store.getDataset(d.id))!).toMatchObject({
        status: 'finalizing',
        views: { queued: 0, running: 0, done: 3, failed: 0 },
      });
    }
  });

  it('refuses duplicates and views after finalize; a failed view may be resubmitted', async () => {
    const d = await datasetWithRunningViews('dups', 2);
    expect(await store.addView(d, viewSpec(0))).toMatchObject({ ok: false, reason: 'DUPLICATE' });
    await store.failView(d.id, key(1), 'bad header');
    expect(await store.addView(d, viewSpec(1))).toMatchObject({ ok: true, reopened: true });
    expect((await store.getDataset(d.id))!.views).toEqual({ queued: 1, running: 1, done: 0, failed: 0 });
    await store.requestFinalize(d.id, {});
    expect(await store.addView(d, viewSpec(0, 1))).toMatchObject({ ok: false, reason: 'FINALIZED' });
  });

  it('refuses to finalize a dataset with no view: it could only fail, and would then take none', async () => {
    const d = (await store.createDataset(DatasetSpec.parse({ name: 'empty' }), {
      h5: '/e.h5',
      xml: '/e.xml',
    }))!;
    expect(await store.requestFinalize(d.id, {})).toBe('NO_VIEWS');
    expect((await store.getDataset(d.id))!).toMatchObject({ status: 'open', finalizeRequested: false });
    expect(await store.addView(d, viewSpec(0))).toMatchObject({ ok: true });
  });

  it('refuses a finalize checked against views when a view was added or retried since the check', async () => {
    const d = await datasetWithRunningViews('checked', 1);
    const seen = await store.latestLiveViewTime(d.id);
    expect(seen).toEqual({ latest: 0, admitted: 1 });
    // A view with a later time arrives between the caller's check and its finalize.
    expect(await store.addView(d, viewSpec(0, 5))).toMatchObject({ ok: true });
    expect(await store.requestFinalize(d.id, { timepoints: 1 }, seen.admitted)).toBe('CHANGED');
    expect((await store.getDataset(d.id))!.finalizeRequested).toBe(false);
    // Checked again, it sees the view; a failed one retried counts as arriving too.
    const again = await store.latestLiveViewTime(d.id);
    expect(again).toEqual({ latest: 5, admitted: 2 });
    await store.failView(d.id, key(0), 'bad');
    expect((await store.latestLiveViewTime(d.id)).latest).toBe(5);
    expect(await store.retryView(d.id, key(0))).toMatchObject({ ok: true });
    expect(await store.requestFinalize(d.id, { timepoints: 6 }, again.admitted)).toBe('CHANGED');
    const last = await store.latestLiveViewTime(d.id);
    expect(await store.requestFinalize(d.id, { timepoints: 6 }, last.admitted)).toBeUndefined(); // views still to write
    expect((await store.getDataset(d.id))!).toMatchObject({
      finalizeRequested: true,
      finalizeOptions: { timepoints: 6 },
    });
  });

  it('refuses, in the step that queues it, a retried view past the timepoints a finalize recorded', async () => {
    const d = await datasetWithRunningViews('retry-past', 2);
    expect(await store.addView(d, viewSpec(0, 5))).toMatchObject({ ok: true });
    await store.startView(d.id, key(0, 5));
    await store.failView(d.id, key(0, 5), 'bad header');
    // The API checked the retry before this finalize was recorded (another replica, say).
    expect(await store.requestFinalize(d.id, { timepoints: 1 })).toBeUndefined();
    expect(await store.retryView(d.id, key(0, 5))).toEqual({
      ok: false,
      reason: 'PAST_TIMEPOINTS',
      state: '1',
    });
    expect((await store.getView(d.id, key(0, 5)))!.state).toBe('failed');
    // A batch re-run (reopen) may not add it either; a view within the timepoints may.
    expect(await store.addView(d, viewSpec(1, 5), true)).toMatchObject({ ok: false, reason: 'FINALIZED' });
    await store.failView(d.id, key(0), 'x');
    expect(await store.retryView(d.id, key(0))).toMatchObject({ ok: true });
  });

  it('keeps view results exact (no float rounding on the way through Lua)', async () => {
    const d = await datasetWithRunningViews('exact', 1);
    await store.completeView(d.id, key(0), result(0, 0));
    const [view] = await store.listViews(d.id);
    expect(view!.result!.record.voxelSizeXyz).toEqual([0.1 + 0.2, 1 / 3, 2]);
  });

  it('walks the views a batch at a time, in the order listViews sorts them', async () => {
    const setup = { illuminations: 2, channels: 2, tiles: 3, angles: 2 };
    const d = (await store.createDataset(DatasetSpec.parse({ name: 'walk', setup }), {
      h5: '/w.h5',
      xml: '/w.xml',
    }))!;
    // Timepoints 2 and 10 (as text "t10" sorts before "t2"), every attribute in use, added in a
    // scrambled order; 29 views in batches of 7.
    const views = [];
    for (const time of [10, 2])
      for (let illumination = 0; illumination < 2; illumination++)
        for (let channel = 0; channel < 2; channel++)
          for (let tile = 0; tile < 3; tile++)
            for (let angle = 0; angle < 2; angle++)
              views.push({ time, illumination, channel, tile, angle, source: { uri: 's3://raw/x.npy' } });
    const chosen = views.filter((_, i) => (i * 7) % 48 < 29);
    for (let i = 0; i < chosen.length; i++) {
      const added = await store.addView(d, chosen[(i * 11) % chosen.length]!);
      expect(added.ok).toBe(true);
    }
    const whole = await store.listViews(d.id);
    expect(whole).toHaveLength(29);
    const batches = [];
    for await (const batch of store.viewsInOrder(d.id, { size: 7 })) batches.push(batch);
    expect(batches.map((b) => b.length)).toEqual([7, 7, 7, 7, 1]);
    expect(batches.flat()).toEqual(whole);
    const order = batches.flat().map((v) => v.spec.time * 1000 + v.setupId);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(29);

    // Only the failed ones, in the same order, and none that moved on since the walk began.
    const failedKeys = [whole[3]!, whole[17]!, whole[28]!].map((v) => v.viewKey);
    for (const k of failedKeys) await store.failView(d.id, k, `bad ${k}`);
    const failed = [];
    for await (const batch of store.viewsInOrder(d.id, { size: 2, state: 'failed' })) failed.push(...batch);
    expect(failed.map((v) => [v.viewKey, v.state, v.error])).toEqual(
      failedKeys.map((k) => [k, 'failed', `bad ${k}`]),
    );
    // Pages of 5 after a cursor, followed to the end: the same views, each once, in order.
    const paged = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await store.viewPage(d.id, { size: 3, limit: 5, ...(after ? { after } : {}) });
      for await (const batch of page.views) paged.push(...batch);
      pages++;
      if (!page.next) break;
      expect(page.next).toBe(paged.at(-1)!.viewKey);
      after = page.next;
    }
    expect(pages).toBe(6);
    expect(paged).toEqual(await store.listViews(d.id));
    // A cursor whose view does not exist still places the page; past the end is an empty page.
    const gap = await store.viewPage(d.id, { after: 't5-i0-c0-s0-a0', limit: 1 });
    const gapViews = [];
    for await (const batch of gap.views) gapViews.push(...batch);
    expect(gapViews.map((v) => v.viewKey)).toEqual([whole.find((v) => v.spec.time === 10)!.viewKey]);
    expect(gap.next).toBe(gapViews[0]!.viewKey);
    const end = await store.viewPage(d.id, { after: 't99-i0-c0-s0-a0', limit: 10 });
    expect(end.next).toBeUndefined();
    for await (const batch of end.views) expect(batch).toEqual([]);
    // A page walks the order it is given (one kept from an earlier viewOrder), not a new one.
    const kept = await store.viewOrder(d.id);
    expect(kept.length).toBe(29);
    await store.addView(d, { ...whole[0]!.spec, time: 99 });
    const fromKept = await store.viewPage(d.id, { order: kept, after: whole[27]!.viewKey });
    const keptViews = [];
    for await (const batch of fromKept.views) keptViews.push(...batch);
    expect(keptViews.map((v) => v.viewKey)).toEqual([whole[28]!.viewKey]);
    expect((await store.viewOrder(d.id)).slice(29)).toEqual([
      `t99-${whole[0]!.viewKey.split('-').slice(1).join('-')}`,
    ]);
    // In one state: pages of 2 over the 3 failed views.
    const first = await store.viewPage(d.id, { state: 'failed', limit: 2 });
    const second = await store.viewPage(d.id, { state: 'failed', limit: 2, after: first.next! });
    const pagedFailed = [];
    for (const page of [first, second]) for await (const batch of page.views) pagedFailed.push(...batch);
    expect(pagedFailed.map((v) => v.viewKey)).toEqual(failedKeys);
    expect(second.next).toBeUndefined();

    const walk = store.viewsInOrder(d.id, { size: 1, state: 'failed' });
    const firstBatch = await walk.next();
    expect(firstBatch.value).toHaveLength(1);
    expect(await store.addView(d, whole[17]!.spec)).toMatchObject({ ok: true, reopened: true });
    const rest = [];
    for await (const batch of walk) rest.push(...batch);
    expect(rest.map((v) => v.viewKey)).toEqual([failedKeys[2]]);
  });
});

describe('views in one state, among thousands', () => {
  it('finds exactly them over a scan of many rounds (Redis hands a big hash out in pieces)', async () => {
    const tiles = 50;
    const d = (await store.createDataset(DatasetSpec.parse({ name: 'scan', setup: { tiles } }), {
      h5: '/s.h5',
      xml: '/s.xml',
    }))!;
    const n = 3000; // a hash this big is scanned in several rounds of COUNT 1,000
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let i = w; i < n; i += 8) {
          const added = await store.addView(d, viewSpec(i % tiles, Math.floor(i / tiles)));
          expect(added.ok).toBe(true);
        }
      }),
    );
    const failedKeys = [7, 777, 1500, 2222, 2999].map((i) => key(i % tiles, Math.floor(i / tiles)));
    for (const k of failedKeys) await store.failView(d.id, k, 'bad');
    expect((await store.viewKeysIn(d.id, 'failed')).sort()).toEqual([...failedKeys].sort());
    expect(await store.viewKeysIn(d.id, 'queued')).toHaveLength(n - failedKeys.length);
    expect(await store.viewKeysIn(d.id, 'running')).toEqual([]);
  });
});

describe('view key order', () => {
  it('finds the keys after a cursor, present or not, by the same order', () => {
    const sorted = inViewOrder(
      Array.from({ length: 40 }, (_, i) => `t${i % 4}-i0-c${i % 3}-s${Math.floor(i / 12)}-a0`),
    );
    const cursors = [...sorted.slice(0, 3), 't1-i0-c1-s9-a0', 't0-i0-c0-s0-a0', 't9-i0-c0-s0-a0', 'x'];
    for (const cursor of cursors) {
      const expected = inViewOrder([...sorted, cursor]);
      const after = expected.slice(expected.lastIndexOf(cursor) + 1);
      const order = ViewKeyOrder.of(sorted);
      expect(order.slice(order.indexAfter(cursor))).toEqual(after.filter((k) => k !== cursor));
    }
    expect(ViewKeyOrder.of([]).indexAfter('t0-i0-c0-s0-a0')).toBe(0);
  });

  it('sorts any mix of keys as a comparison of their five numbers would, large indices too', () => {
    // A seeded shuffle of keys: small indices (one mixed-radix number each), then indices too
    // large for one (sorted as tuples), with keys of other forms ('t01' is not how keys are written).
    const random = seededRandom(42);
    const rnd = (n: number) => Math.floor(random() * n);
    const reference = (keys: string[]) => {
      const canonical = keys.filter((k) =>
        /^t(0|[1-9]\d*)-i(0|[1-9]\d*)-c(0|[1-9]\d*)-s(0|[1-9]\d*)-a(0|[1-9]\d*)$/.test(k),
      );
      const numbers = (k: string) => k.match(/\d+/g)!.map(Number);
      const byNumbers = (a: string, b: string) => {
        const [x, y] = [numbers(a), numbers(b)];
        const i = x.findIndex((v, j) => v !== y[j]);
        return i < 0 ? 0 : x[i]! - y[i]!;
      };
      return [...canonical.sort(byNumbers), ...keys.filter((k) => !canonical.includes(k)).sort()];
    };
    for (const top of [
      [50, 3, 4, 30, 2],
      [100_000, 10_000, 10_000, 10_000, 10_000],
    ]) {
      const keys = new Set<string>(['t01-i0-c0-s0-a0', 'x', 't0-i0-c0-s0', 't0-a0-a0-a0-a0']);
      while (keys.size < 2000)
        keys.add(`t${rnd(top[0]!)}-i${rnd(top[1]!)}-c${rnd(top[2]!)}-s${rnd(top[3]!)}-a${rnd(top[4]!)}`);
      const shuffled = [...keys].sort(() => rnd(3) - 1);
      expect(inViewOrder(shuffled)).toEqual(reference(shuffled));
    }
  });

  it('sorts by time, then illumination, channel, tile, angle as numbers; other keys last', () => {
    expect(
      inViewOrder([
        't10-i0-c0-s0-a0',
        'x',
        't2-i1-c0-s0-a0',
        't2-i0-c1-s0-a0',
        't2-i0-c0-s10-a0',
        't2-i0-c0-s9-a1',
      ]),
    ).toEqual([
      't2-i0-c0-s9-a1',
      't2-i0-c0-s10-a0',
      't2-i0-c1-s0-a0',
      't2-i1-c0-s0-a0',
      't10-i0-c0-s0-a0',
      'x',
    ]);
  });
});
