import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeBdv, tempDir } from '../../../test/support/oracle.js';
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
    const h5 = copyOfBase('grouping');
    const writer = await BdvWriter.resume(h5, grouped);
    try {
      await writer.appendView(planes([6, 20, 18], 11), { time: 5 });
      await writer.appendView(planes([6, 20, 18], 12), { time: 6 });
      // written, held by the open group: the record still lists the base's views only
      expect(writer.views).toHaveLength(7);
      expect(readChecksumFile(p('grouping', 'out.checksums.json')).views).toHaveLength(5);
      expect(existsSync(`${h5}.journal`)).toBe(true);
      await writer.commit();
      expect(readChecksumFile(p('grouping', 'out.checksums.json')).views).toHaveLength(7);
      expect(existsSync(`${h5}.journal`)).toBe(false);
      await writer.writeXml();
    } finally {
      await writer.close();
    }
    expect((await verifyDataset(p('grouping', 'out.xml'))).ok).toBe(true);
    expect(cellsOf(h5)).toHaveLength(7 * 2);
  });

  it('undoes a failed view alone: the views before it in the group are committed, the writer goes on', async () => {
    const h5 = copyOfBase('failing');
    const writer = await BdvWriter.resume(h5, grouped);
    try {
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
      expect(existsSync(`${h5}.journal`)).toBe(false);
      expect(cellsOf(h5).filter((k) => k.startsWith('t00007'))).toEqual([]);
      // the same view, written again in full, and one more
      await writer.appendView(planes([8, 20, 18], 23), { time: 7 });
      await writer.appendView(planes([6, 20, 18], 24), { time: 8 });
      await writer.writeXml();
    } finally {
      await writer.close();
    }
    expect((await verifyDataset(p('failing', 'out.xml'))).ok).toBe(true);
    expect(cellsOf(h5)).toHaveLength(9 * 2);
  });

  it('refuses a second appendView while one is being written; the first lands', async () => {
    const h5 = copyOfBase('overlap');
    const writer = await BdvWriter.resume(h5, grouped);
    try {
      const first = writer.appendView(planes([6, 20, 18], 31), { time: 5 });
      await expect(writer.appendView(planes([6, 20, 18], 32), { time: 6 })).rejects.toThrow(
        /a view is being written: await each appendView/,
      );
      await first;
      await writer.writeXml();
    } finally {
      await writer.close();
    }
    expect((await verifyDataset(p('overlap', 'out.xml'))).ok).toBe(true);
    expect(cellsOf(h5)).toHaveLength(6 * 2);
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
