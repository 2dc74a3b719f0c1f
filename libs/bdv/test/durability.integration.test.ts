import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untilLockIs } from '../../../test/support/lock-holder.js';
import { describeBdv, PYTHON, tempDir } from '../../../test/support/oracle.js';
import {
  BdvError,
  BdvWriter,
  removeDatasetFile,
  resolveFormat,
  verifyDataset,
  type BdvFormat,
} from '../src/index.js';
import { fenceFileOf, WriterFence } from '../src/h5/writer-fence.js';

// Crash safety by construction, shown with real processes killed at the worst moments and real
// files read back by h5py. The library runs from its build here (the child processes need it).

const dir = tempDir('bdv-durable-');
afterAll(() => dir.remove());
const p = (name: string) => join(dir.path, name);
const CHILD = join(import.meta.dirname, 'fixtures', 'append-views.mjs');
const options = {
  setup: { tiles: 4 },
  subsamplingZyx: [
    [1, 1, 1],
    [2, 2, 2],
  ],
  blockSizeZyx: [[4, 16, 16]],
  compression: 'gzip' as const,
};
const format: BdvFormat = resolveFormat(options);

function appendViews(h5: string, first: number, count: number, kill?: number | 'count') {
  const r = spawnSync(
    process.execPath,
    [CHILD, h5, JSON.stringify(format), String(first), String(count), String(kill ?? 0)],
    {
      encoding: 'utf8',
    },
  );
  return {
    status: r.status,
    signal: r.signal,
    out: r.stdout
      ? (JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as {
          writes: number;
          sums: Record<string, unknown>;
        })
      : undefined,
    stderr: r.stderr,
  };
}

/** A base dataset: 30 timepoints x 4 tiles x 2 levels = 240 datasets, so the file's metadata is big. */
beforeAll(async () => {
  const writer = await BdvWriter.create(p('base.h5'), options);
  const data = new Uint16Array(6 * 20 * 18).map((_, i) => (i * 7) % 4000);
  for (let time = 0; time < 30; time++)
    for (let tile = 0; tile < 4; tile++)
      await writer.appendView({ shapeZyx: [6, 20, 18], data }, { time, tile });
  await writer.writeXml();
  await writer.close();
});

describe('a writer killed while appending to a single-layout file', () => {
  it('never breaks the views already in it, and the retry gives the same file as a clean run', async () => {
    mkdirSync(p('clean'));
    copyFileSync(p('base.h5'), p('clean/base.h5'));
    const clean = appendViews(p('clean/base.h5'), 30, 2, 'count');
    expect(clean.status, clean.stderr).toBe(0);
    const total = clean.out!.writes;
    expect(total).toBeGreaterThan(50);
    // Kill points spread over the whole append, the last ones inside the final flush of close().
    const kills = [
      1,
      2,
      5,
      Math.floor(total / 4),
      Math.floor(total / 2),
      total - 20,
      total - 5,
      total - 2,
      total,
    ];
    for (const [i, kill] of kills.entries()) {
      const run = p(`run${i}`);
      mkdirSync(run);
      for (const f of ['base.h5', 'base.xml', 'base.checksums.json']) copyFileSync(p(f), join(run, f));
      const killed = appendViews(join(run, 'base.h5'), 30, 2, kill);
      expect(killed.signal, `kill at write ${kill}`).toBe('SIGKILL');
      const retry = appendViews(join(run, 'base.h5'), 30, 2);
      expect(retry.status, retry.stderr).toBe(0);
      expect(retry.out!.sums).toEqual(clean.out!.sums);
      const report = await verifyDataset(join(run, 'base.xml'));
      expect(
        report.ok,
        `kill at write ${kill}: ${JSON.stringify(report.views.filter((v) => v.problems.length))}`,
      ).toBe(true);
      expect(existsSync(join(run, 'base.h5.journal'))).toBe(false);
      // h5py (HDF5 1.10, another implementation) opens the file and lists every dataset.
      expect(
        Object.keys(describeBdv(join(run, 'base.h5')).h5.datasets).filter((k) => k.endsWith('/cells')),
      ).toHaveLength((30 + 2) * 4 * 2);
    }
  });

  it('rolls a failed append back: the file is byte for byte what it was', async () => {
    mkdirSync(p('failing'));
    copyFileSync(p('base.h5'), p('failing/base.h5'));
    const before = readFileSync(p('failing/base.h5'));
    const { appendViewToFile, describeView } = await import('../src/index.js');
    const record = describeView(format.setup, { time: 40 }, [8, 20, 18]);
    // the source ends after 4 of the 8 planes it promised
    const short = {
      shapeZyx: [8, 20, 18] as [number, number, number],
      slabs: [new Uint16Array(4 * 20 * 18)],
    };
    await expect(appendViewToFile(p('failing/base.h5'), format, record, short)).rejects.toThrow(
      /ended after 4 of 8/,
    );
    expect(readFileSync(p('failing/base.h5')).equals(before)).toBe(true);
    expect(readdirSync(p('failing')).filter((f) => f.endsWith('.journal'))).toEqual([]);
  });
});

describe('the owner of a single-layout file', () => {
  it('is recorded when the file is created; another owner never appends to it, the owner does', async () => {
    const { appendViewToFile, describeView } = await import('../src/index.js');
    mkdirSync(p('owned'));
    const h5 = p('owned/ds.h5');
    const stack = (time: number) => ({
      shapeZyx: [4, 20, 18] as [number, number, number],
      data: new Uint16Array(4 * 20 * 18).fill(100 + time),
    });
    const view = (time: number) => describeView(format.setup, { time }, [4, 20, 18]);
    await appendViewToFile(h5, format, view(0), stack(0), { owner: 'dataset-a' });
    const before = readFileSync(h5);
    // another dataset of the same name (its state lost and re-created, a batch re-run elsewhere)
    await expect(
      appendViewToFile(h5, format, view(1), stack(1), { owner: 'dataset-b' }),
    ).rejects.toMatchObject({
      code: 'FILE_EXISTS',
      message: expect.stringMatching(
        /ds\.h5 exists but was not created for this dataset \(owner dataset-a\)/,
      ),
    });
    expect(readFileSync(h5).equals(before)).toBe(true);
    // a file nobody recorded (written by hand, or before owners were recorded) is refused too
    mkdirSync(p('unowned'));
    copyFileSync(h5, p('unowned/ds.h5'));
    await expect(
      appendViewToFile(p('unowned/ds.h5'), format, view(1), stack(1), { owner: 'dataset-a' }),
    ).rejects.toThrow(/no owner recorded/);
    // the owner appends
    await appendViewToFile(h5, format, view(1), stack(1), { owner: 'dataset-a' });
    const cells = Object.keys(describeBdv(h5).h5.datasets).filter((k) => k.endsWith('/cells'));
    expect(cells.filter((k) => k.startsWith('t00001/'))).toHaveLength(format.levels.length);
  });
});

describe('the write fence', () => {
  it('keeps a paused writer’s file from anyone else, and frees it the moment the writer dies', async () => {
    const h5 = p('fenced.h5');
    const holder = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `import { WriterFence } from '${join(import.meta.dirname, '..', 'dist', 'h5', 'writer-fence.js')}';
       await WriterFence.acquire(${JSON.stringify(h5)}); process.stdout.write('held\\n'); setInterval(() => {}, 1000);`,
    ]);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    holder.kill('SIGSTOP');
    // however long it waits
    await expect(WriterFence.acquire(h5, { waitSeconds: 1 })).rejects.toMatchObject({ code: 'FILE_LOCKED' });
    await expect(WriterFence.acquire(h5, { waitSeconds: 0 })).rejects.toBeInstanceOf(BdvError);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const started = Date.now();
    const fence = await WriterFence.acquire(h5, { waitSeconds: 2 });
    expect(fence?.held).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    await fence!.release();
  });

  it('is never held twice: a taker whose lock file was replaced while it waited takes the new one', async () => {
    const h5 = p('replaced-lock.h5');
    const first = await WriterFence.acquire(h5, { waitSeconds: 0 });
    const waiting = WriterFence.acquire(h5, { waitSeconds: 3 });
    await untilLockIs(fenceFileOf(h5), 'waited on'); // flock has the old lock file open
    rmSync(fenceFileOf(h5));
    const newcomer = await WriterFence.acquire(h5, { waitSeconds: 0 }); // creates a new lock file
    await first!.release();
    // The old lock file is free now, but it fences nothing: the waiter waits for the newcomer.
    await untilLockIs(fenceFileOf(h5), 'waited on');
    await newcomer!.release();
    const fence = await waiting;
    expect(fence?.held).toBe(true);
    await expect(WriterFence.acquire(h5, { waitSeconds: 0 })).rejects.toMatchObject({ code: 'FILE_LOCKED' });
    await fence!.release();
  });

  it('ends a wait STATE when the lock file was removed under it, and does not bring it back', async () => {
    const h5 = p('removed-lock.h5');
    const first = await WriterFence.acquire(h5, { waitSeconds: 0 });
    const waiting = WriterFence.acquire(h5, { waitSeconds: 5 });
    await untilLockIs(fenceFileOf(h5), 'waited on');
    rmSync(fenceFileOf(h5)); // as a deletion does, holding the fence
    await first!.release();
    await expect(waiting).rejects.toMatchObject({
      code: 'STATE',
      message: expect.stringContaining('removed'),
    });
    expect(existsSync(fenceFileOf(h5))).toBe(false);
  });

  it('lets go of a lock whose path it cannot check any more, and says so', async () => {
    const folder = p('moved-dataset');
    mkdirSync(folder);
    const h5 = join(folder, 'moved.h5');
    const first = await WriterFence.acquire(h5, { waitSeconds: 0 });
    const waiting = WriterFence.acquire(h5, { waitSeconds: 5 });
    await untilLockIs(fenceFileOf(h5), 'waited on');
    renameSync(folder, p('moved-away'));
    writeFileSync(folder, 'a file where the folder was'); // the check's stat: ENOTDIR
    await first!.release();
    await expect(waiting).rejects.toMatchObject({
      code: 'STATE',
      message: expect.stringContaining('ENOTDIR'),
    });
    const again = await WriterFence.acquire(join(p('moved-away'), 'moved.h5'), { waitSeconds: 0 });
    await again!.release(); // nobody was left holding it
  });

  it('guards a dataset folder until a deletion has removed all of it: its lock file goes last', async () => {
    const folder = p('big-dataset');
    const h5 = join(folder, 'big-dataset.h5');
    mkdirSync(folder);
    writeFileSync(h5, 'not really HDF5');
    for (let i = 0; i < 3_000; i++) writeFileSync(join(folder, `part-${i}.h5`), '');
    const deletion = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `import { removeDatasetFile } from '${join(import.meta.dirname, '..', 'dist', 'index.js')}';
       await removeDatasetFile(${JSON.stringify(h5)}, 5, ${JSON.stringify(folder)});`,
    ]);
    const deleted = new Promise((resolve) => deletion.once('exit', resolve));
    await untilLockIs(fenceFileOf(h5), 'held');
    // Another process that waits for the fence (as flock(1) alone: no identity check) and lists
    // what it finds once it gets in: nothing, if the lock file went last.
    const seen = execFileSync(
      'flock',
      ['--timeout', '30', fenceFileOf(h5), 'sh', '-c', `ls "${folder}" 2>/dev/null | wc -l`],
      { encoding: 'utf8' },
    );
    expect(await deleted).toBe(0);
    expect(Number(seen.trim())).toBe(0);
  });

  it('lets two deletions of one dataset both succeed, whichever comes first', async () => {
    const folder = p('deleted-twice');
    const h5 = join(folder, 'deleted-twice.h5');
    mkdirSync(folder);
    writeFileSync(h5, 'not really HDF5');
    writeFileSync(join(folder, 'deleted-twice.xml'), '<SpimData/>');
    const writer = await WriterFence.acquire(h5, { waitSeconds: 0 });
    const deletions = [removeDatasetFile(h5, 5, folder), removeDatasetFile(h5, 5, folder)];
    await untilLockIs(fenceFileOf(h5), 'waited on');
    await writer!.release();
    await Promise.all(deletions);
    expect(existsSync(folder)).toBe(false);
  });
});

describe('verification', () => {
  it('accepts a dataset as written and names the view and level of one changed pixel', async () => {
    expect((await verifyDataset(p('base.xml'))).ok).toBe(true);
    mkdirSync(p('tampered'));
    for (const f of ['base.h5', 'base.xml', 'base.checksums.json']) copyFileSync(p(f), p(`tampered/${f}`));
    execFileSync(PYTHON, [
      '-c',
      'import h5py, sys\nwith h5py.File(sys.argv[1], "r+") as f: f["t00007/s02/1/cells"][1, 2, 3] += 1',
      p('tampered/base.h5'),
    ]);
    const report = await verifyDataset(p('tampered/base.xml'));
    expect(report.ok).toBe(false);
    expect(report.views.filter((v) => v.problems.length > 0)).toEqual([
      { time: 7, setupId: 2, file: 'base.h5', problems: [expect.stringMatching(/^level 1: pixels differ/)] },
    ]);
  });

  it('reports a view whose checksums are missing and a checksum file that does not parse', async () => {
    mkdirSync(p('partial'));
    for (const f of ['base.h5', 'base.xml']) copyFileSync(p(f), p(`partial/${f}`));
    const sums = JSON.parse(readFileSync(p('base.checksums.json'), 'utf8'));
    sums.views = sums.views.slice(1);
    writeFileSync(p('partial/base.checksums.json'), JSON.stringify(sums));
    const report = await verifyDataset(p('partial/base.xml'));
    expect(report.views.find((v) => v.time === 0 && v.setupId === 0)?.problems).toEqual([
      'no checksum was recorded for it',
    ]);
    for (const text of ['{"format": "something else"}', 'null', '[]', '7']) {
      writeFileSync(p('partial/base.checksums.json'), text);
      await expect(verifyDataset(p('partial/base.xml'))).rejects.toThrow(
        /base\.checksums\.json: not a bdv-cluster checksum file/,
      );
    }
  });
});

// A small tmpfs as the output volume (needs root, as CI runs): fill it, make it read-only.
const volume = p('volume');
mkdirSync(volume);
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', volume]).status === 0;
afterAll(() => {
  if (mounted) spawnSync('umount', [volume]);
});

describe.skipIf(!mounted)(
  'a full or read-only output volume (tmpfs; skipped where mount is not allowed)',
  () => {
    const noise = (n: number) => {
      const data = new Uint16Array(n);
      let x = 7;
      for (let i = 0; i < n; i++) data[i] = x = (Math.imul(x, 1103515245) + 12345) >>> 16;
      return data;
    };
    const plain = resolveFormat({ setup: { tiles: 2 } });
    const openDescriptors = () => readdirSync('/proc/self/fd').length;
    // (every descriptor: of the dataset file, of its journal, and of HDF5's own diagnostics)

    /** The append failed as a full volume, and left the file, the folder and the process as they were. */
    const expectFullAndUntouched = (error: unknown, h5: string, before: Buffer, descriptors: number) => {
      expect(error).toMatchObject({
        code: 'OUTPUT_UNAVAILABLE',
        message: expect.stringContaining('output volume full'),
      });
      expect(readFileSync(h5).equals(before)).toBe(true);
      expect(readdirSync(volume).filter((f) => f.includes('.journal') || f.endsWith('.tmp'))).toEqual([]);
      expect(openDescriptors()).toBe(descriptors);
    };

    /** A file holding tile 0, written and closed: its bytes, and this process's open descriptors. */
    const fileWithTile0 = async (
      h5: string,
      options: Parameters<typeof BdvWriter.create>[1],
      shapeZyx: [number, number, number],
    ) => {
      const writer = await BdvWriter.create(h5, options);
      await writer.appendView(
        { shapeZyx, data: noise(shapeZyx[0] * shapeZyx[1] * shapeZyx[2]) },
        { tile: 0 },
      );
      await writer.writeXml();
      await writer.close();
      return { before: readFileSync(h5), descriptors: openDescriptors() };
    };

    it('says so, leaves the file as it was and leaks no descriptor; works again once there is room', async () => {
      const h5 = join(volume, 'full.h5');
      const { before, descriptors } = await fileWithTile0(h5, { setup: { tiles: 2 } }, [4, 64, 64]);
      const { appendViewToFile, describeView } = await import('../src/index.js');
      const big = { shapeZyx: [64, 256, 256] as [number, number, number], data: noise(64 * 256 * 256) };
      const record = describeView(plain.setup, { tile: 1 }, big.shapeZyx);
      const error = await appendViewToFile(h5, plain, record, big).catch((e: unknown) => e);
      expectFullAndUntouched(error, h5, before, descriptors);

      expect(spawnSync('mount', ['-o', 'remount,size=64m', volume]).status).toBe(0);
      await appendViewToFile(h5, plain, record, big);
      expect(spawnSync('mount', ['-o', 'remount,ro', volume]).status).toBe(0);
      const readOnly = await appendViewToFile(h5, plain, describeView(plain.setup, { time: 1 }, [2, 8, 8]), {
        shapeZyx: [2, 8, 8],
        data: noise(128),
      }).catch((e: unknown) => e);
      expect(String(readOnly)).toMatch(/read-only/);
      expect(spawnSync('mount', ['-o', 'remount,rw', volume]).status).toBe(0);
    });

    it('says so for chunks whose writes were joined (16³ blocks: 8 KiB writes, docs/adr/029)', async () => {
      const small = resolveFormat({ setup: { tiles: 2 }, blockSizeZyx: [[16, 16, 16]] });
      const h5 = join(volume, 'full-small-chunks.h5');
      const { before, descriptors } = await fileWithTile0(
        h5,
        { setup: { tiles: 2 }, blockSizeZyx: [[16, 16, 16]] },
        [16, 64, 64],
      );
      const { appendViewToFile, describeView } = await import('../src/index.js');
      // more than the volume holds: 16 MiB in 2,048 chunks of 8 KiB, 2 MiB of room (and under the
      // sizes that start the checksum and flush threads, whose descriptors would count here)
      const { blocks, bfree, bsize } = statfsSync(volume);
      const room = Math.ceil(((blocks - bfree) * bsize) / 1024) + 2048; // 2 MiB left
      expect(spawnSync('mount', ['-o', `remount,size=${room}k`, volume]).status).toBe(0);
      const big = { shapeZyx: [16, 512, 1024] as [number, number, number], data: noise(16 * 512 * 1024) };
      const record = describeView(small.setup, { tile: 1 }, big.shapeZyx);
      const error = await appendViewToFile(h5, small, record, big).catch((e: unknown) => e);
      expectFullAndUntouched(error, h5, before, descriptors);
      expect(spawnSync('mount', ['-o', 'remount,size=64m', volume]).status).toBe(0);
      rmSync(h5);
    });
  },
);
