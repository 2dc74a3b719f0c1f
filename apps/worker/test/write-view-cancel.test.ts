import { ViewTaskError, type ViewTaskResult } from '@bdv-cluster/convert';
import type { DatasetRecord, ViewEntry } from '@bdv-cluster/pipeline';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { writeViewProcessor, type WriteJob, type WriterDeps } from '../src/writer/write-view-processor.js';
import { fakeViewResult } from './fake-view-result.js';

// The writer's part in cancelling a dataset and in choosing an "auto" pyramid, with fakes.

const log = pino({ level: 'silent' });
const VIEW = 't0-i0-c0-s0-a0';

function fakes(o: {
  status?: () => string;
  started?: string;
  spec?: Record<string, unknown>;
  runTask?: WriterDeps['runTask'];
}) {
  const settle = { done: vi.fn(async () => undefined), failed: vi.fn(async () => undefined) };
  const cancelView = vi.fn(async () => true);
  const released = vi.fn(async () => undefined);
  const choosePyramid = vi.fn(async () => true);
  let spec: Record<string, unknown> = { layout: 'single', ...o.spec };
  const taskOf = vi.fn((d: DatasetRecord) => ({ chosen: d.spec }) as never);
  const deps: WriterDeps = {
    store: {
      getDataset: async () => ({ id: 'd1', spec }) as unknown as DatasetRecord,
      getView: async () =>
        ({
          viewKey: VIEW,
          state: 'queued',
          spec: { source: { uri: 's3://raw/a.npy' }, voxelSizeXyz: [0.65, 0.65, 2] },
        }) as ViewEntry,
      startView: async () => (o.started ?? 'OK') as 'OK',
      noteWaiting: async () => undefined,
      statusOf: async () => (o.status?.() ?? 'writing') as 'writing',
      cancelView,
      choosePyramid: vi.fn(async (_id: string, chosen: Record<string, unknown>) => {
        spec = chosen;
        return choosePyramid();
      }) as never,
    },
    settle,
    tryLock: async () => ({ release: released }),
    taskOf,
    shapeOf: vi.fn(async () => [100, 2048, 2048]),
    runTask: o.runTask ?? vi.fn(async () => fakeViewResult),
    cancelPollMs: 10,
    outageBudgetMs: 60_000,
    now: async () => Date.now(),
    log,
  };
  return { deps, settle, cancelView, released, taskOf };
}

const job = () =>
  ({
    id: `d1.${VIEW}`,
    data: { datasetId: 'd1', viewKey: VIEW },
    attemptsMade: 0,
    opts: { attempts: 5 },
    moveToDelayed: async () => undefined,
    updateProgress: async () => undefined,
    extendLock: async () => 1,
    updateData: async () => undefined,
    getState: async () => 'active',
  }) as unknown as WriteJob;

describe('a write job whose dataset is cancelled', () => {
  it('stops the running task through its signal; the view is cancelled, not settled', async () => {
    let cancelling = false;
    const runTask = vi.fn(
      (_task: unknown, _progress: unknown, signal: AbortSignal) =>
        new Promise<ViewTaskResult>((_resolve, reject) => {
          cancelling = true; // DELETE arrives while the view is being written
          signal.addEventListener('abort', () =>
            reject(new ViewTaskError('cancelled: stopped between slabs', 'cancelled')),
          );
        }),
    );
    const f = fakes({ status: () => (cancelling ? 'cancelling' : 'writing'), runTask });
    await expect(writeViewProcessor(f.deps)(job(), 'token')).resolves.toBe('cancelled');
    expect(f.cancelView).toHaveBeenCalledWith('d1', VIEW);
    expect(f.settle.done).not.toHaveBeenCalled();
    expect(f.settle.failed).not.toHaveBeenCalled();
    expect(f.released).toHaveBeenCalled();
  });

  it('discards a partition that finished just as the dataset was cancelled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bdv-cancel-'));
    const staged = join(dir, '.p.h5.x.tmp');
    writeFileSync(staged, 'x');
    const f = fakes({
      status: () => 'cancelling',
      spec: { layout: 'partitioned' },
      runTask: async () => ({ ...fakeViewResult, partition: { file: 'p.h5', staged } }),
    });
    await expect(writeViewProcessor(f.deps)(job(), 'token')).resolves.toBe('cancelled');
    expect(existsSync(staged)).toBe(false);
    expect(existsSync(join(dir, 'p.h5'))).toBe(false);
    expect(f.settle.done).not.toHaveBeenCalled();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not start a view its dataset cancelled', async () => {
    const runTask = vi.fn(async () => fakeViewResult);
    const f = fakes({ started: 'CANCELLED', runTask });
    await expect(writeViewProcessor(f.deps)(job(), 'token')).resolves.toBe('skipped (CANCELLED)');
    expect(runTask).not.toHaveBeenCalled();
  });
});

describe('an "auto" pyramid', () => {
  it('is chosen from the first view (its header shape and voxel size) before the task is built', async () => {
    const f = fakes({ spec: { subsamplingZyx: 'auto', blockSizeZyx: 'auto' } });
    await expect(writeViewProcessor(f.deps)(job(), 'token')).resolves.toBe('written');
    const chosen = (f.taskOf.mock.calls[0]![0] as DatasetRecord).spec;
    // 100x2048x2048 at 0.65x0.65x2: see libs/bdv/test/propose-mipmaps.test.ts
    expect(chosen.subsamplingZyx).toEqual([
      [1, 1, 1],
      [1, 2, 2],
      [2, 4, 4],
      [4, 8, 8],
    ]);
    expect(chosen.blockSizeZyx).toEqual([
      [4, 32, 32],
      [16, 16, 16],
      [16, 16, 16],
      [16, 16, 16],
    ]);
  });

  it('reads no header when the levels were given', async () => {
    const f = fakes({});
    await writeViewProcessor(f.deps)(job(), 'token');
    expect(f.deps.shapeOf).not.toHaveBeenCalled();
  });
});
