import { describe, expect, it, vi } from 'vitest';
import { CancelDataset, PipelineError, RetryView, type DatasetRecord } from '../src/index.js';

// The rules of cancel and retry with fakes of their ports (the Lua side has its own Redis test).

const record = {
  id: 'd1',
  name: 'run1',
  files: { h5: '/out/run1/run1.h5', xml: '/out/run1/run1.xml' },
} as DatasetRecord;

function cancelFakes(o: { running?: string[]; active?: string[]; removeFails?: string } = {}) {
  let running = [...(o.running ?? [])];
  const order: string[] = [];
  const store = {
    getDataset: vi.fn(async () => record),
    cancelDataset: vi.fn(async () => ({
      ok: true as const,
      before: 'writing' as const,
      generation: 0,
      cancelledQueued: ['q1'],
    })),
    cancelView: vi.fn(async (_id: string, key: string) => {
      running = running.filter((k) => k !== key);
      return true;
    }),
    finishCancel: vi.fn(async () => {
      order.push('finish');
      return running.length === 0;
    }),
    viewKeysIn: vi.fn(async () => running),
  };
  const queues = {
    removeWrites: vi.fn(async () => undefined),
    removeFinalize: vi.fn(async () => undefined),
    writeJobActive: vi.fn(async (_id: string, key: string) => (o.active ?? []).includes(key)),
    finalizeJobActive: vi.fn(async () => false),
  };
  const removeOutputs = vi.fn(async () => {
    order.push('remove');
    if (o.removeFails) throw Object.assign(new Error('held'), { code: o.removeFails });
  });
  const cancel = new CancelDataset(store, queues, removeOutputs, { waitMs: 200, pollMs: 20 });
  return { cancel, store, queues, removeOutputs, order };
}

describe('CancelDataset', () => {
  it('refuses an unknown dataset (404) and a complete one without purge (409 naming purge)', async () => {
    const f = cancelFakes();
    f.store.cancelDataset.mockResolvedValueOnce({ ok: false, reason: 'NO_DATASET' } as never);
    await expect(f.cancel.execute('d1', false)).rejects.toMatchObject({ kind: 'NOT_FOUND' });
    f.store.cancelDataset.mockResolvedValueOnce({ ok: false, reason: 'COMPLETE' } as never);
    const refused = await f.cancel.execute('d1', false).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PipelineError);
    expect((refused as PipelineError).message).toMatch(/\?purge=true/);
    expect(f.removeOutputs).not.toHaveBeenCalled();
  });

  it('removes the queued jobs, then the outputs, then frees the name — in that order', async () => {
    const f = cancelFakes();
    expect(await f.cancel.execute('d1', false)).toEqual({ dataset: record, stillRunning: [] });
    expect(f.queues.removeWrites).toHaveBeenCalledWith('d1', ['q1']);
    expect(f.order).toEqual(['remove', 'finish']);
  });

  it('cancels a running view whose job no writer holds, and waits for one that a writer holds', async () => {
    const f = cancelFakes({ running: ['dead', 'busy'], active: ['busy'] });
    const r = await f.cancel.execute('d1', false);
    expect(f.store.cancelView).toHaveBeenCalledWith('d1', 'dead');
    expect(f.store.cancelView).not.toHaveBeenCalledWith('d1', 'busy');
    // the held one never stopped within the wait: nothing removed, the caller hears which
    expect(r.stillRunning).toEqual(['busy']);
    expect(f.removeOutputs).not.toHaveBeenCalled();
    expect(f.store.finishCancel).not.toHaveBeenCalled();
  });

  it('answers "still running" when the single file stays held; other removal errors propagate', async () => {
    const locked = cancelFakes({ removeFails: 'FILE_LOCKED' });
    expect((await locked.cancel.execute('d1', false)).stillRunning).toEqual([
      '(run1.h5 is held by another process)',
    ]);
    expect(locked.store.finishCancel).not.toHaveBeenCalled();
    const broken = cancelFakes({ removeFails: 'EACCES' });
    await expect(broken.cancel.execute('d1', false)).rejects.toThrow('held');
  });
});

describe('RetryView', () => {
  const retry = (outcome: object, enqueue = vi.fn(async () => undefined)) => {
    const store = {
      retryView: vi.fn(async () => outcome as never),
      failView: vi.fn(async () => undefined),
    };
    return { use: new RetryView(store, { enqueueWrites: enqueue }), store, enqueue };
  };

  it('refuses a view past the timepoints the dataset was finalized with (as Redis found it), queueing nothing', async () => {
    const r = retry({ ok: false, reason: 'PAST_TIMEPOINTS', state: '3' });
    await expect(r.use.execute('d1', 't5-i0-c0-s0-a0')).rejects.toMatchObject({
      kind: 'CONFLICT',
      message:
        'view t5-i0-c0-s0-a0 has time 5, past the 3 timepoints dataset d1 was finalized with: it cannot be added to its XML',
    });
    expect(r.enqueue).not.toHaveBeenCalled();
  });

  it('queues the view again, replacing its old job', async () => {
    const r = retry({ ok: true, before: 'complete' });
    await r.use.execute('d1', 'v');
    expect(r.enqueue).toHaveBeenCalledWith('d1', [{ viewKey: 'v', reopened: true }]);
  });

  it('answers each refusal with its kind and reason', async () => {
    const cases: [object, string, RegExp][] = [
      [{ ok: false, reason: 'NO_DATASET', state: '' }, 'NOT_FOUND', /does not exist/],
      [{ ok: false, reason: 'NO_VIEW', state: '' }, 'NOT_FOUND', /never submitted/],
      [{ ok: false, reason: 'NOT_FAILED', state: 'done' }, 'CONFLICT', /is done: only a failed view/],
      [{ ok: false, reason: 'FINALIZING', state: 'finalizing' }, 'CONFLICT', /finalizing/],
      [{ ok: false, reason: 'CANCELLED', state: 'cancelled' }, 'CONFLICT', /is cancelled/],
    ];
    for (const [outcome, kind, message] of cases) {
      const error = await retry(outcome)
        .use.execute('d1', 'v')
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(outcome)).toMatchObject({ kind, message: expect.stringMatching(message) });
    }
  });

  it('fails the view again when its job cannot be queued, so the dataset never waits for it', async () => {
    const r = retry(
      { ok: true, before: 'writing' },
      vi.fn(async () => Promise.reject(new Error('redis away'))),
    );
    await expect(r.use.execute('d1', 'v')).rejects.toMatchObject({ kind: 'UNAVAILABLE' });
    expect(r.store.failView).toHaveBeenCalledWith('d1', 'v', 'retry not queued: redis away');
  });
});
