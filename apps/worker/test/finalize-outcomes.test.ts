import type { VerifyReport } from '@bdv-cluster/bdv';
import { ViewTaskError } from '@bdv-cluster/convert';
import type { ViewEntry } from '@bdv-cluster/pipeline';
import { StorageError } from '@bdv-cluster/storage';
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { outageOf } from '../src/finalizer/finalize-outage.js';
import { unverifiedViews } from '../src/finalizer/unverified-views.js';

describe('what a finalize waits out', () => {
  it('the volume errors of its own file writes, named as the writers name them', () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      path: '/data/out/run1/run1.xml',
    });
    const down = outageOf(full);
    expect(down).toBeInstanceOf(ViewTaskError);
    expect(down?.message).toBe('output volume full (/data/out/run1): ENOSPC: no space left on device, write');
    expect(outageOf(Object.assign(new Error('read-only'), { code: 'EROFS' }))?.message).toMatch(
      /^output volume read-only: /,
    );
  });

  it('what the writers wait out: the object store not answering, the volume not mounted', () => {
    const store = new StorageError(
      'TRANSIENT',
      's3://output/x/.bdv-export: could not read the export claim',
      'u',
    );
    expect(outageOf(store)).toBe(store);
    const unmounted = new ViewTaskError('output folder /data/out missing: is the volume mounted?', 'outage');
    expect(outageOf(unmounted)).toBe(unmounted);
  });

  it('not what retrying cannot fix, nor an ordinary failure', () => {
    expect(outageOf(new ViewTaskError('not under OUTPUT_DIR', 'permanent'))).toBeUndefined();
    expect(outageOf(new StorageError('NOT_FOUND', 'no such object', 'u'))).toBeUndefined();
    expect(outageOf(new UnrecoverableError('export: another dataset holds the prefix'))).toBeUndefined();
    expect(outageOf(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBeUndefined();
  });
});

describe('written views that did not read back', () => {
  const view = (tile: number, state: ViewEntry['state']): ViewEntry =>
    ({ viewKey: `t0-i0-c0-s${tile}-a0`, state, setupId: tile, spec: { time: 0 } }) as ViewEntry;

  it('are the written views of the verdicts with problems, each saying what was found', () => {
    const report: VerifyReport = {
      xml: 'x.xml',
      ok: false,
      problems: [],
      views: [
        { time: 0, setupId: 0, file: 'x-t00000-s00.h5', problems: [] },
        { time: 0, setupId: 1, file: 'x-t00000-s01.h5', problems: ['x-t00000-s01.h5 does not exist'] },
        {
          time: 0,
          setupId: 2,
          file: 'x-t00000-s02.h5',
          problems: ['level 0: pixels differ', 'level 1: missing'],
        },
      ],
    };
    expect(
      unverifiedViews(report, [view(0, 'done'), view(1, 'done'), view(2, 'done'), view(3, 'failed')]),
    ).toEqual([
      { viewKey: 't0-i0-c0-s1-a0', reason: 'did not read back at finalize: x-t00000-s01.h5 does not exist' },
      {
        viewKey: 't0-i0-c0-s2-a0',
        reason: 'did not read back at finalize: level 0: pixels differ; level 1: missing',
      },
    ]);
  });
});
