import type { ViewSpec } from '@bdv-cluster/contract';
import { SubmitViews, type AddViewOutcome, type DatasetRecord } from '@bdv-cluster/pipeline';
import { describe, expect, it, vi } from 'vitest';

// A batch records many views one by one; if recording one of them throws (Redis gone, a view the
// dataset cannot hold), the views recorded before it have no job yet and must not stay queued.

const dataset = { id: 'd1' } as DatasetRecord;
const view = (tile: number) =>
  ({ time: 0, illumination: 0, channel: 0, tile, angle: 0, source: { uri: 's3://raw/a' } }) as ViewSpec;

describe('SubmitViews for a batch', () => {
  it('fails the views it recorded when recording a later one throws, and queues nothing', async () => {
    const store = {
      addView: vi.fn(async (_d: DatasetRecord, v: ViewSpec): Promise<AddViewOutcome> => {
        if (v.tile === 2) throw new Error('tile index 2 is outside 0..1');
        const viewKey = `t0-i0-c0-s${v.tile}-a0`;
        return { ok: true, reopened: false, viewKey, jobId: `d1.${viewKey}` };
      }),
      failView: vi.fn(async () => undefined),
    };
    const queues = { enqueueWrites: vi.fn(async () => undefined) };
    const error = await new SubmitViews(store, queues)
      .execute(dataset, [view(0), view(1), view(2), view(3)], true)
      .catch((e: unknown) => e);
    expect(String(error)).toMatch(/outside 0\.\.1/);
    expect(store.addView).toHaveBeenCalledTimes(3);
    expect(queues.enqueueWrites).not.toHaveBeenCalled();
    expect(store.failView.mock.calls.map((c) => c[1])).toEqual(['t0-i0-c0-s0-a0', 't0-i0-c0-s1-a0']);
    expect(String(store.failView.mock.calls[0]![2])).toMatch(/^not queued: tile index 2/);
  });
});
