import { fenceFileOf, resolveFormat, type BdvFormat } from '@bdv-cluster/bdv';
import { writeNpy } from '@bdv-cluster/stacks';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { abortedWhileLocked } from '../../../test/support/lock-holder.js';
import { tempDir } from '../../../test/support/oracle.js';
import { runViewTask, type ViewTask } from '../src/index.js';

// A view task stopped by its caller's AbortSignal stops between slabs on its thread and leaves
// nothing: the single file byte for byte as before, no journal, no staged partition. The pool
// runs in a plain node process (fixtures/run-cancelled-task.mjs, from the build).

const dir = tempDir('bdv-cancel-');
afterAll(() => dir.remove());
const fixture = join(import.meta.dirname, 'fixtures', 'run-cancelled-task.mjs');

const SHAPE: [number, number, number] = [96, 256, 256];
/** Small slabs (many of them) and gzip, so a view takes long enough to be stopped mid-way. */
const format: BdvFormat = resolveFormat(
  {
    setup: { tiles: 2 },
    compression: 'gzip',
    subsamplingZyx: [
      [1, 1, 1],
      [2, 2, 2],
    ],
    blockSizeZyx: [[4, 64, 64]],
  },
  256 * 1024,
);

async function stack(name: string): Promise<string> {
  const path = join(dir.path, name);
  const plane = SHAPE[1] * SHAPE[2];
  function* planes() {
    for (let z = 0; z < SHAPE[0]; z++) {
      const p = new Uint16Array(plane);
      for (let i = 0; i < plane; i++) p[i] = (i * 7919 + z * 104729) % 4099;
      yield p;
    }
  }
  await writeNpy(path, SHAPE, planes());
  return path;
}

const task = (path: string, h5Path: string, tile: number, layout: 'single' | 'partitioned'): ViewTask => ({
  source: { kind: 'file', uri: `file://${path}`, path },
  read: { format: 'npy' },
  view: { time: 0, tile },
  h5Path,
  layout,
  format,
  owner: 'dataset-1',
});

/** Runs a task on a thread and aborts it at its first progress report (more slabs are to come). */
function runAborted(t: ViewTask): { kind: string; message?: string; progressAfterAbort: number } {
  const out = execFileSync(process.execPath, [fixture, JSON.stringify(t)], { encoding: 'utf8' });
  return JSON.parse(out) as { kind: string; message?: string; progressAfterAbort: number };
}

describe('cancelling a view task between slabs', () => {
  it('rolls a single-layout append back: the file is byte for byte as before', async () => {
    const h5 = join(dir.path, 'single', 'ds.h5');
    const a = await stack('a.npy');
    await runViewTask(task(a, h5, 0, 'single'));
    const before = readFileSync(h5);

    const r = runAborted(task(a, h5, 1, 'single'));
    expect(r.kind, r.message).toBe('cancelled');
    expect(r.message).toMatch(/stopped between slabs/);
    expect(readFileSync(h5).equals(before)).toBe(true);
    expect(existsSync(`${h5}.journal`)).toBe(false);

    // and the file takes the same view afterwards
    await runViewTask(task(a, h5, 1, 'single'));
    expect(readFileSync(h5).length).toBeGreaterThan(before.length);
  });

  it('deletes a partition staged so far; nothing appears at the partition name', async () => {
    const folder = join(dir.path, 'partitioned');
    const a = join(dir.path, 'a.npy');
    const r = runAborted(task(a, join(folder, 'ds.h5'), 0, 'partitioned'));
    expect(r.kind, r.message).toBe('cancelled');
    expect(readdirSync(folder)).toEqual([]);
  });

  it('stops waiting for a file another process holds, as cancelled', async () => {
    const h5 = join(dir.path, 'held', 'ds.h5');
    mkdirSync(dirname(h5));
    const source = await stack('held.npy');
    const { error, ms } = await abortedWhileLocked(fenceFileOf(h5), 300, (signal) =>
      runViewTask(task(source, h5, 0, 'single'), undefined, signal),
    );
    expect(error).toMatchObject({ kind: 'cancelled' });
    expect(ms).toBeLessThan(2000); // not the whole 5 s wait
    expect(existsSync(h5)).toBe(false);
  });

  it('does not start a task that is cancelled already', async () => {
    const h5 = join(dir.path, 'never', 'ds.h5');
    await expect(
      runViewTask(task(join(dir.path, 'a.npy'), h5, 0, 'single'), undefined, { aborted: true }),
    ).rejects.toMatchObject({ kind: 'cancelled' });
    expect(existsSync(h5)).toBe(false);
  });
});
