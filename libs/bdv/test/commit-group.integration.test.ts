import { spawnSync } from 'node:child_process';
import fs, { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBdv, tempDir } from '../../../test/support/oracle.js';
import { BdvH5File } from '../src/h5/bdv-h5-file.js';
import { BdvWriter, readChecksumFile, verifyDataset, type BdvWriterOptions } from '../src/index.js';

// Views of a single-layout output committed in groups (commit-group.ts), shown with real files
// read back by h5py and real processes killed at every kind of write. The library runs from its
// build in the child processes.

const dir = tempDir('bdv-group-');
afterAll(() => dir.remove());
const p = (...parts: string[]) => join(dir.path, ...parts);
const CHILD = join(import.meta.dirname, 'fixtures', 'group-writer.mjs');
const BASE_FILES = ['out.h5', 'out.xml', 'out.checksums.json'];

/** Everything in one group: only a failure, writeXml or close commits. */
const grouped: BdvWriterOptions = {
  subsamplingZyx: [
    [1, 1, 1],
    [2, 2, 2],
  ],
  blockSizeZyx: [[4, 16, 16]],
  compression: 'gzip',
  commitGroup: { bytes: 1e12, seconds: 1e6 },
};

const planes = (shape: [number, number, number], seed: number) => ({
  shapeZyx: shape,
  data: new Uint16Array(shape[0] * shape[1] * shape[2]).map((_, i) => (i * seed) % 4000),
});
const cellsOf = (h5: string) =>
  Object.keys(describeBdv(h5).h5.datasets)
    .filter((k) => k.endsWith('/cells'))
    .sort();

/** A finished output of 5 timepoints (10 datasets) that each test continues with --resume's writer. */
beforeAll(async () => {
  mkdirSync(p('base'));
  const writer = await BdvWriter.create(p('base', 'out.h5'), grouped);
  for (let time = 0; time < 5; time++) await writer.appendView(planes([6, 20, 18], time + 3), { time });
  await writer.writeXml();
  await writer.close();
});

/**
 * A copy of the base, continued by a writer (grouped by default) that `write` uses on the copy's
 * .h5 (`out`); the writer is closed whatever happens. Returns that .h5.
 */
async function writeIntoCopy(
  name: string,
  write: (writer: BdvWriter, out: string) => Promise<void>,
  options: BdvWriterOptions = grouped,
): Promise<string> {
  const h5 = copyOfBase(name);
  const writer = await BdvWriter.resume(h5, options);
  try {
    await write(writer, h5);
  } finally {
    await writer.close();
  }
  return h5;
}

function copyOfBase(name: string): string {
  mkdirSync(p(name));
  for (const f of BASE_FILES) copyFileSync(p('base', f), p(name, f));
  return p(name, 'out.h5');
}

function runChild(h5: string, kill?: number | 'count') {
  const r = spawnSync(process.execPath, [CHILD, h5, JSON.stringify(grouped), String(kill ?? 0)], {
    encoding: 'utf8',
  });
  const out = r.stdout.trim()
    ? (JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        writes: number;
        failed: string;
        failedAt: number;
        sums: Record<string, unknown>;
      })
    : undefined;
  return { status: r.status, signal: r.signal, stderr: r.stderr, out };
}

describe('a commit group of views in one file', () => {
  it('commits at writeXml/close, not per view: the record lists a view once its group committed', async () => {
    const h5 = await writeIntoCopy('grouping', async (writer, out) => {
      await writer.appendView(planes([6, 20, 18], 11), { time: 5 });
      await writer.appendView(planes([6, 20, 18], 12), { time: 6 });
      // written, held by the open group: the record still lists the base's views only
      expect(writer.views).toHaveLength(7);
      expect(readChecksumFile(p('grouping', 'out.checksums.json')).views).toHaveLength(5);
      expect(existsSync(`${out}.journal`)).toBe(true);
      await writer.commit();
      expect(readChecksumFile(p('grouping', 'out.checksums.json')).views).toHaveLength(7);
      expect(existsSync(`${out}.journal`)).toBe(false);
      await writer.writeXml();
    });
    expect((await verifyDataset(p('grouping', 'out.xml'))).ok).toBe(true);
    expect(cellsOf(h5)).toHaveLength(7 * 2);
  });

  it('undoes a failed view alone: the views before it in the group are committed, the writer goes on', async () => {
    const h5 = await writeIntoCopy('failing', async (writer, out) => {
      await writer.appendView(planes([6, 20, 18], 21), { time: 5 });
      await writer.appendView(planes([6, 20, 18], 22), { time: 6 });
      const short = {
        shapeZyx: [8, 20, 18] as [number, number, number],
        slabs: [new Uint16Array(4 * 20 * 18)],
      };
      await expect(writer.appendView(short, { time: 7 })).rejects.toThrow(/ended after 4 of 8/);
      // the group before the failed view is committed and recorded; nothing of view 7 is left
      expect(readChecksumFile(p('failing', 'out.checksums.json')).views.map((v) => v.time)).toEqual([
        0, 1, 2, 3, 4, 5, 6,
      ]);
      expect(existsSync(`${out}.journal`)).toBe(false);
      expect(cellsOf(out).filter((k) => k.startsWith('t00007'))).toEqual([]);
      // the same view, written again in full, and one more
      await writer.appendView(planes([8, 20, 18], 23), { time: 7 });
      await writer.appendView(planes([6, 20, 18], 24), { time: 8 });
      await writer.writeXml();
    });
    expect((await verifyDataset(p('failing', 'out.xml'))).ok).toBe(true);
    expect(cellsOf(h5)).toHaveLength(9 * 2);
  });

  it('refuses a second appendView while one is being written; the first lands', async () => {
    const h5 = await writeIntoCopy('overlap', async (writer) => {
      const first = writer.appendView(planes([6, 20, 18], 31), { time: 5 });
      await expect(writer.appendView(planes([6, 20, 18], 32), { time: 6 })).rejects.toThrow(
        /a view is being written: await each appendView/,
      );
      await first;
      await writer.writeXml();
    });
    expect((await verifyDataset(p('overlap', 'out.xml'))).ok).toBe(true);
    expect(cellsOf(h5)).toHaveLength(6 * 2);
  });

  it('a commit whose close fails (volume full) undoes its own group only: the views committed before stay', async () => {
    const bytes = 2 * 6 * 20 * 18;
    const writeSync = fs.writeSync;
    const close = BdvH5File.prototype.close;
    let closing = false;
    let writes = 0;
    const h5 = await writeIntoCopy(
      'full-at-commit',
      async (writer) => {
        try {
          await writer.appendView(planes([6, 20, 18], 41), { time: 5 });
          await writer.appendView(planes([6, 20, 18], 42), { time: 6 }); // due: committed
          await writer.appendView(planes([6, 20, 18], 43), { time: 7 });
          // HDF5's final flush of the next commit fails after two writes, as on a volume that filled
          // up: the file layer under HDF5 (Node's fs, not the journal's own writes) says ENOSPC.
          BdvH5File.prototype.close = function (this: BdvH5File) {
            closing = true;
            try {
              close.call(this);
            } finally {
              closing = false;
            }
          };
          fs.writeSync = function (this: unknown, ...args: Parameters<typeof writeSync>) {
            if (closing && writes++ >= 2)
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
            return writeSync.apply(this, args);
          } as typeof writeSync;
          await expect(writer.appendView(planes([6, 20, 18], 44), { time: 8 })).rejects.toThrow(
            /output volume full.*\(the 2 view\(s\) of this commit were undone\)/,
          );
        } finally {
          fs.writeSync = writeSync;
          BdvH5File.prototype.close = close;
        }
      },
      { ...grouped, commitGroup: { bytes: 2 * bytes, seconds: 1e6 } },
    );
    expect(writes).toBeGreaterThan(2);
    expect(existsSync(`${h5}.journal`)).toBe(false);
    expect(readChecksumFile(p('full-at-commit', 'out.checksums.json')).views.map((v) => v.time)).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ]);
    // what the record lists reads back as written: a resume keeps all of it
    const again = await BdvWriter.resume(h5, grouped);
    try {
      expect(again.views.map((v) => v.time)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    } finally {
      await again.close();
    }
  });

  it('keeps a failed view’s own error when undoing it fails too, and lists only what is in the file', async () => {
    const writeSync = fs.writeSync;
    const abortToSavepoint = BdvH5File.prototype.abortToSavepoint;
    let undoing = false;
    const restore = () => {
      fs.writeSync = writeSync;
      syncBuiltinESMExports();
      BdvH5File.prototype.abortToSavepoint = abortToSavepoint;
    };
    await writeIntoCopy('full-at-undo', async (writer) => {
      try {
        await writer.appendView(planes([6, 20, 18], 51), { time: 5 });
        await writer.appendView(planes([6, 20, 18], 52), { time: 6 });
        fs.writeSync = function (this: unknown, ...args: Parameters<typeof writeSync>) {
          if (undoing)
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          return writeSync.apply(this, args);
        } as typeof writeSync;
        syncBuiltinESMExports();
        BdvH5File.prototype.abortToSavepoint = function (this: BdvH5File) {
          undoing = true;
          try {
            return abortToSavepoint.call(this);
          } finally {
            undoing = false;
          }
        };
        const short = {
          shapeZyx: [8, 20, 18] as [number, number, number],
          slabs: [new Uint16Array(4 * 20 * 18)],
        };
        await expect(writer.appendView(short, { time: 7 })).rejects.toThrow(
          /ended after 4 of 8.*\(the 2 view\(s\) written before it since the last commit were undone too\)/,
        );
        restore();
        expect(writer.views.map((v) => v.time)).toEqual([0, 1, 2, 3, 4]);
        await writer.appendView(planes([6, 20, 18], 51), { time: 5 }); // written again
        await writer.writeXml();
      } finally {
        restore();
      }
    });
    const report = await verifyDataset(p('full-at-undo', 'out.xml'));
    expect(report.ok, JSON.stringify(report.views.filter((v) => v.problems.length))).toBe(true);
    expect(report.views.map((v) => v.time)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('commits a group past its age before the next view, and waits for a running append to commit', async () => {
    const recordedTimes = () => readChecksumFile(p('aged', 'out.checksums.json')).views.map((v) => v.time);
    await writeIntoCopy(
      'aged',
      async (writer) => {
        await writer.appendView(planes([6, 20, 18], 61), { time: 5 });
        await sleep(700);
        await writer.appendView(planes([6, 20, 18], 62), { time: 6 });
        // view 5 was committed when view 6 began (the group was 0.7 s old); view 6 opened a new group
        expect(recordedTimes()).toEqual([0, 1, 2, 3, 4, 5]);
        const running = writer.appendView(planes([6, 20, 18], 63), { time: 7 });
        await writer.commit(); // waits for view 7: never half a view committed
        await running;
        expect(recordedTimes()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        await writer.writeXml();
      },
      { ...grouped, commitGroup: { bytes: 1e12, seconds: 0.5 } },
    );
    expect((await verifyDataset(p('aged', 'out.xml'))).ok).toBe(true);
  });

  it('rolls back to the last commit on a crash at any write; a second run finishes it as a clean run does', async () => {
    const clean = runChild(copyOfBase('clean'), 'count');
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.out!.failed).toMatch(/ended after 4 of 12/);
    const total = clean.out!.writes;
    expect(total).toBeGreaterThan(40);
    expect(Object.keys(clean.out!.sums)).toHaveLength(5 + 4);
    expect((await verifyDataset(p('clean', 'out.xml'))).ok).toBe(true);
    // Kill points over the whole run: the group's views and their savepoint flushes, the failed
    // view, the commit it brings (HDF5's close, undoing to the savepoint: every write of it), the
    // last view, the XML and the record.
    const failedAt = clean.out!.failedAt;
    const kills = [1, 2, 3, 5, 8];
    for (let k = 1; k <= 10; k++) kills.push(Math.floor((total * k) / 11));
    for (let k = failedAt - 8; k <= failedAt + 1; k++) kills.push(k);
    kills.push(total - 3, total - 1, total);
    for (const [i, kill] of kills.entries()) {
      const h5 = copyOfBase(`kill${i}`);
      const killed = runChild(h5, kill);
      expect(killed.signal, `kill at write ${kill} of ${total}: ${killed.stderr}`).toBe('SIGKILL');
      // What the crash left opens as a whole file at its last commit: the record's views read back.
      const recorded = readChecksumFile(p(`kill${i}`, 'out.checksums.json')).views.length;
      expect([5, 8, 9], `kill at write ${kill}`).toContain(recorded);
      const retry = runChild(h5);
      expect(retry.status, `kill at write ${kill}: ${retry.stderr}`).toBe(0);
      expect(retry.out!.sums, `kill at write ${kill}`).toEqual(clean.out!.sums);
      expect(readdirSync(p(`kill${i}`)).filter((f) => f.endsWith('.journal') || f.endsWith('.tmp'))).toEqual(
        [],
      );
      expect(cellsOf(h5), `kill at write ${kill}`).toEqual(cellsOf(p('clean', 'out.h5')));
      expect((await verifyDataset(p(`kill${i}`, 'out.xml'))).ok, `kill at write ${kill}`).toBe(true);
      expect(readFileSync(p(`kill${i}`, 'out.xml'), 'utf8')).toBe(
        readFileSync(p('clean', 'out.xml'), 'utf8'),
      );
    }
  });
});
