import type { ViewSpec } from '@bdv-cluster/contract';
import { describe, expect, it, vi } from 'vitest';
import {
  PipelineError,
  RequestFinalize,
  SettleView,
  SubmitViews,
  type AddViewOutcome,
  type DatasetRecord,
} from '../src/index.js';

// The use cases with fakes of their ports: the rules, in milliseconds.

const dataset = { id: 'd1' } as DatasetRecord;
const view = (tile: number) =>
  ({ time: 0, illumination: 0, channel: 0, tile, angle: 0, source: { uri: 's3://raw/a' } }) as ViewSpec;

function store(refuse: number[] = []) {
  return {
    addView: vi.fn(async (_d: DatasetRecord, v: ViewSpec): Promise<AddViewOutcome> => {
      const viewKey = `t0-i0-c0-s${v.tile}-a0`;
      return refuse.includes(v.tile)
        ? { ok: false, reason: 'DUPLICATE', state: 'done', viewKey, jobId: `d1.${viewKey}` }
        : { ok: true, reopened: false, viewKey, jobId: `d1.${viewKey}` };
    }),
    failView: vi.fn(async () => undefined),
  };
}

describe('SubmitViews', () => {
  it('records and queues views; refusals are reported, not queued', async () => {
    const s = store([1]);
    const queues = { enqueueWrites: vi.fn(async () => undefined) };
    const outcome = await new SubmitViews(s, queues).execute(dataset, [view(0), view(1), view(2)]);
    expect(outcome.queued.map((v) => v.viewKey)).toEqual(['t0-i0-c0-s0-a0', 't0-i0-c0-s2-a0']);
    expect(outcome.refused).toMatchObject([{ viewKey: 't0-i0-c0-s1-a0', reason: 'DUPLICATE' }]);
    expect(queues.enqueueWrites).toHaveBeenCalledWith('d1', [
      { viewKey: 't0-i0-c0-s0-a0', reopened: false },
      { viewKey: 't0-i0-c0-s2-a0', reopened: false },
    ]);
  });

  it('fails every recorded view when the jobs cannot be queued, so none waits forever', async () => {
    const s = store([1]);
    const queues = { enqueueWrites: vi.fn(async () => Promise.reject(new Error('Connection is closed.'))) };
    const error = await new SubmitViews(s, queues)
      .execute(dataset, [view(0), view(1), view(2)])
      .catch((e) => e);
    expect(error).toBeInstanceOf(PipelineError);
    expect(error).toMatchObject({ kind: 'UNAVAILABLE' });
    expect(s.failView.mock.calls.map((c) => c[1])).toEqual(['t0-i0-c0-s0-a0', 't0-i0-c0-s2-a0']);
    expect(String(s.failView.mock.calls[0]![2])).toMatch(/could not be queued: Connection is closed/);
  });
});

describe('SettleView', () => {
  it('queues the finalize generation a transition returns, and only then', async () => {
    const queues = { enqueueFinalize: vi.fn(async () => undefined) };
    const settle = new SettleView({ completeView: async () => 3, failView: async () => undefined }, queues);
    expect(await settle.done('d1', 'v', {} as never)).toBe(3);
    expect(queues.enqueueFinalize).toHaveBeenCalledWith('d1', 3);
    expect(await settle.failed('d1', 'w', 'bad')).toBeUndefined();
    expect(queues.enqueueFinalize).toHaveBeenCalledOnce();
  });
});

describe('RequestFinalize', () => {
  const stuck = { id: 'd1', status: 'finalizing', generation: 4 } as DatasetRecord;

  it('re-arms a generation stuck in finalizing whose job is gone', async () => {
    const queues = {
      enqueueFinalize: vi.fn(async () => undefined),
      finalizeJobAlive: vi.fn(async () => false),
    };
    const finalize = new RequestFinalize(
      { requestFinalize: async () => undefined, getDataset: async () => stuck },
      queues,
    );
    expect(await finalize.execute('d1')).toBe(4);
    expect(queues.enqueueFinalize).toHaveBeenCalledWith('d1', 4);
  });

  it('leaves a live finalize alone', async () => {
    const queues = {
      enqueueFinalize: vi.fn(async () => undefined),
      finalizeJobAlive: vi.fn(async () => true),
    };
    const finalize = new RequestFinalize(
      { requestFinalize: async () => undefined, getDataset: async () => stuck },
      queues,
    );
    expect(await finalize.execute('d1')).toBeUndefined();
    expect(queues.enqueueFinalize).not.toHaveBeenCalled();
  });
});
