import { copyFileSync, existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beadStack, grayPng } from '../../../test/support/bead-stacks.js';
import { abortedWhileLocked, holdLock } from '../../../test/support/lock-holder.js';
import { tempDir } from '../../../test/support/oracle.js';
import {
  appendViewToFile,
  BdvWriter,
  describeView,
  removeDatasetFile,
  resolveFormat,
  verifyDataset,
  type BdvError,
} from '../src/index.js';
import {
  projectView,
  projectViewsOfFile,
  viewPreviewPng,
  viewsOfXml,
  type PreviewSource,
} from '../src/preview/index.js';
import { fenceFileOf, wantFileOf, WriterFence } from '../src/h5/writer-fence.js';

// Previews read back from real files: the level read, where the beads are, the fence and the
// journal of a single-layout file another process may be appending to.

const dir = tempDir('bdv-preview-');
afterAll(() => dir.remove());
const h5 = join(dir.path, 'beads.h5');

// 12 x 600 x 700: level 0 projects to 600 x 700 (too big for 512), level 1 to 300 x 350. The
// beads cover 0.3 % of the projection: more than the 0.1 % above the white point.
const beads = [
  { z: 4, y: 100, x: 200, size: 12, value: 30000 },
  { z: 8, y: 500, x: 600, size: 12, value: 20000 },
  ...[0, 1, 2, 3, 4, 5].map((i) => ({ z: i, y: 300, x: 60 + 100 * i, size: 12, value: 25000 })),
];
const stack = beadStack([12, 600, 700], beads);

const beadsOptions = {
  setup: { channels: 2 },
  subsamplingZyx: [
    [1, 1, 1],
    [1, 2, 2],
    [2, 4, 4],
  ],
  blockSizeZyx: [[4, 64, 64]],
  compression: 'gzip' as const,
};
beforeAll(async () => {
  const writer = await BdvWriter.create(h5, beadsOptions);
  await writer.appendView(stack, { channel: 0 });
  await writer.appendView(beadStack([12, 600, 700], []), { channel: 1 });
  await writer.writeXml();
  await writer.close();
});

const source = (setupId = 0, appendable = true): PreviewSource => ({
  h5Path: h5,
  time: 0,
  setupId,
  appendable,
});

describe('a view preview', () => {
  it('reads the finest level that fits and shows the beads where they are', async () => {
    const projection = await projectView(source(), { slabBytes: 300 * 350 * 2 * 3 }); // 3 planes a slab
    expect([projection.level, projection.shrink, projection.width, projection.height]).toEqual([
      1, 1, 350, 300,
    ]);
    const png = grayPng(viewPreviewPng(projection).png);
    expect([png.width, png.height]).toEqual([350, 300]);
    expect(png.text['bdv:level']).toBe('1');
    // Level 1 halves y and x: the beads' 6 x 6 blocks at (50, 100), (250, 300), (150, 30 + 50 i).
    expect(png.at(103, 53)).toBe(255);
    expect(png.at(303, 253)).toBeGreaterThan(150);
    for (let i = 0; i < 6; i++) expect(png.at(33 + 50 * i, 153)).toBeGreaterThan(150);
    expect(png.at(20, 20)).toBeLessThan(60);
    // bright where the beads are and nowhere else: 8 beads x 36 pixels
    expect(png.brightFraction(150) * 350 * 300).toBe(8 * 36);
  });

  it('projects along y and x, and shrinks a level that does not fit', async () => {
    const alongY = await projectView(source(), { axis: 'y' });
    // along y the image is z x x: level 1 (12 x 350) is the finest that fits
    expect([alongY.level, alongY.width, alongY.height]).toEqual([1, 350, 12]);
    const small = await projectView(source(), { maxSize: 64 });
    // level 2 is 150 x 175: shrunk by 3 to 50 x 59
    expect([small.level, small.shrink, small.width, small.height]).toEqual([2, 3, 59, 50]);
    const png = grayPng(viewPreviewPng(small).png);
    expect(png.at(Math.floor(206 / 4 / 3), Math.floor(106 / 4 / 3))).toBe(255);
  });

  it('reads several views of one file in one go, and refuses views of several files', async () => {
    const both = await projectViewsOfFile([source(0), source(1)]);
    expect(both.map((p) => p.level)).toEqual([1, 1]);
    expect(both[0]!.pixels).toEqual((await projectView(source(0))).pixels);
    expect(Math.max(...both[1]!.pixels)).toBeLessThan(200); // channel 1 has no beads
    await expect(
      projectViewsOfFile([source(0), { ...source(1), h5Path: `${h5}.other` }]),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('finds files and attributes through the XML', () => {
    const views = viewsOfXml(join(dir.path, 'beads.xml'));
    expect(views.map((v) => [v.setupId, v.channel, v.source.h5Path, v.source.appendable])).toEqual([
      [0, 0, h5, true],
      [1, 1, h5, true],
    ]);
  });
});

describe('a single-layout file being written', () => {
  it('is not read while another process holds its fence, and is read once it lets go', async () => {
    const holder = await holdLock(fenceFileOf(h5), 1.5);
    await expect(projectView(source())).rejects.toMatchObject({ code: 'FILE_LOCKED' });
    const started = Date.now();
    const projection = await projectView(source(), { waitMs: 10_000 });
    expect(Date.now() - started).toBeGreaterThan(700); // it waited for the holder
    expect(projection.level).toBe(1);
    await holder.exited;
  });

  it('is not read while a crashed append left its journal, unless it is a whole file', async () => {
    writeFileSync(`${h5}.journal`, 'uncommitted');
    try {
      await expect(projectView(source())).rejects.toMatchObject({
        code: 'FILE_LOCKED',
        message: expect.stringContaining('unfinished append'),
      });
      expect((await projectView(source(0, false))).level).toBe(1);
    } finally {
      await import('node:fs').then((fs) => fs.rmSync(`${h5}.journal`));
    }
  });

  it('keeps the fence through a long read while no writer asks for it', async () => {
    expect(WriterFence.wanted(h5)).toBe(false);
    const started = Date.now();
    // 3 chunk-deep slabs, each past holdMs: a pause (2 s) after each if it let go regardless
    const projection = await projectView(source(), { slabBytes: 1, holdMs: 0, pauseMs: 2000 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(projection.level).toBe(1);
  });

  /** Until the read started holds the fence (a try that does not wait fails, and does not ask). */
  const untilReadHolds = (path: string) =>
    expect
      .poll(() =>
        WriterFence.acquire(path, { waitSeconds: 0 }).then(
          (f) => f?.release(),
          (e: BdvError) => e.code,
        ),
      )
      .toBe('FILE_LOCKED');
  const bytesOf = (a: Uint16Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  // A long read: the same view read 60 times in one session (one fence), three slabs each.
  const longRead = (path = h5) =>
    projectViewsOfFile(
      Array.from({ length: 60 }, () => ({ ...source(), h5Path: path })),
      { maxSize: 1024, slabBytes: 1, holdMs: 100, pauseMs: 300, waitMs: 10_000 },
    );
  /** A long read of a copy of the file, that must stop once the copy is replaced or removed. */
  const longReadStopped = (copy: string) => {
    copyFileSync(h5, copy);
    const failed = expect(longRead(copy)).rejects.toMatchObject({
      code: 'FILE_LOCKED', // the API's 503: try again
      message: expect.stringContaining('was replaced or removed while it was read'),
    });
    return { failed };
  };

  const takers: [string, () => Promise<unknown>][] = [
    // the cluster's writer: appends a view (timepoint 1) to the file being read
    [
      "the cluster's append",
      () => {
        const format = resolveFormat(beadsOptions);
        const record = describeView(format.setup, { time: 1 }, [12, 600, 700]);
        return appendViewToFile(h5, format, record, beadStack([12, 600, 700], []));
      },
    ],
    // the finalizer's single-layout verify, under the fence
    [
      "the finalizer's verify",
      async () => {
        const report = await verifyDataset(join(dir.path, 'beads.xml'), { fenced: true });
        if (!report.ok) throw new Error(JSON.stringify(report));
      },
    ],
  ];

  it.each(takers)('lets %s in between slabs of a long read, which goes on after', async (_, take) => {
    const reading = longRead().then((projections) => ({ projections, endedAt: Date.now() }));
    await untilReadHolds(h5);
    expect(existsSync(wantFileOf(h5))).toBe(false);
    const asked = Date.now();
    await take();
    const inAt = Date.now();
    const { projections, endedAt } = await reading;
    expect(inAt - asked).toBeLessThan(1500); // holdMs 100 + one slab, not the rest of the read
    expect(endedAt).toBeGreaterThan(inAt); // the read went on after letting it in
    const whole = bytesOf((await projectView(source(0, false), { maxSize: 1024 })).pixels);
    // every view read whole and right, before and after the pause (toEqual on each is too slow)
    expect(projections.filter((p) => bytesOf(p.pixels).equals(whole))).toHaveLength(60);
    expect(existsSync(wantFileOf(h5))).toBe(false); // withdrawn once answered
  });

  it('lets bdv convert --overwrite in, and then refuses to go on reading another file', async () => {
    const copy = join(dir.path, 'replaced.h5');
    const { failed } = longReadStopped(copy);
    await untilReadHolds(copy);
    const asked = Date.now();
    const writer = await BdvWriter.create(copy, { ...beadsOptions, overwrite: true });
    expect(Date.now() - asked).toBeLessThan(1500);
    await writer.appendView(beadStack([12, 600, 700], beads.slice(0, 1)), { channel: 0 });
    await writer.close();
    await failed;
  });

  it('stops when a deletion gets in, and does not bring the lock file back', async () => {
    const copy = join(dir.path, 'deleted.h5');
    const { failed } = longReadStopped(copy);
    await untilReadHolds(copy);
    await removeDatasetFile(copy, 10);
    await failed;
    expect(existsSync(fenceFileOf(copy))).toBe(false);
  });

  it('says STATE when the file went while the read waited for its fence', async () => {
    const copy = join(dir.path, 'gone.h5');
    copyFileSync(h5, copy);
    const holder = await holdLock(fenceFileOf(copy));
    const reading = projectView({ ...source(), h5Path: copy }, { waitMs: 10_000 });
    const failed = expect(reading).rejects.toMatchObject({ code: 'STATE', field: 'view' });
    await new Promise((r) => setTimeout(r, 300));
    rmSync(copy);
    holder.release();
    await failed;
  });

  it('refuses to let bdv convert replace or resume a file the cluster writes', async () => {
    const owned = join(dir.path, 'owned.h5');
    copyFileSync(h5, owned);
    writeFileSync(fenceFileOf(owned), 'dataset-42\n'); // as the cluster's first append records it
    for (const open of [
      () => BdvWriter.create(owned, { ...beadsOptions, overwrite: true }),
      () => BdvWriter.resume(owned, beadsOptions),
    ])
      await expect(open()).rejects.toMatchObject({
        code: 'FILE_EXISTS',
        message: expect.stringContaining(`remove ${fenceFileOf(owned)} and run again`),
      });
    expect(readFileSync(owned).equals(readFileSync(h5))).toBe(true);
    // a lock file left behind without its .h5 is not in the way
    rmSync(owned);
    await (await BdvWriter.create(owned, beadsOptions)).close();
  });

  it('stops waiting when cancelled', async () => {
    const { error, ms } = await abortedWhileLocked(fenceFileOf(h5), 500, (signal) =>
      WriterFence.acquire(h5, { waitSeconds: 20, cancel: signal }),
    );
    expect(error).toMatchObject({ code: 'FILE_LOCKED', message: expect.stringContaining('cancelled') });
    expect(ms).toBeLessThan(1500);
    expect(existsSync(wantFileOf(h5))).toBe(false);
    // its flock did not stay behind waiting: the fence is free at once
    const fence = await WriterFence.acquire(h5, { waitSeconds: 1 });
    await fence?.release();
  });

  it('asks while it waits (again every second), withdraws the ask when it gives up; readers never ask', async () => {
    const holder = await holdLock(fenceFileOf(h5));
    try {
      const reading = expect(projectView(source(), { waitMs: 1000 })).rejects.toMatchObject({
        code: 'FILE_LOCKED',
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(existsSync(wantFileOf(h5))).toBe(false); // a reader waiting does not ask
      await reading;
      const started = Date.now();
      const waiting = WriterFence.acquire(h5, { waitSeconds: 2.5 });
      const failed = expect(waiting).rejects.toMatchObject({
        code: 'FILE_LOCKED',
        message: expect.stringContaining('waited 2.5 s'),
      });
      await new Promise((r) => setTimeout(r, 2200));
      // touched at 0 s and again every second: a wait longer than an ask lasts (15 s) stays asked
      // for, and another taker's withdrawal is undone within a second
      expect(statSync(wantFileOf(h5)).mtimeMs).toBeGreaterThan(started + 1500);
      expect(WriterFence.wanted(h5)).toBe(true);
      await failed;
      expect(existsSync(wantFileOf(h5))).toBe(false);
    } finally {
      holder.release();
    }
  });

  it('forgets an ask after 15 s (its writer died waiting)', () => {
    const asked = wantFileOf(h5);
    writeFileSync(asked, '');
    expect(WriterFence.wanted(h5)).toBe(true);
    utimesSync(asked, new Date(Date.now() - 20_000), new Date(Date.now() - 20_000));
    expect(WriterFence.wanted(h5)).toBe(false);
    rmSync(asked);
  });
});
