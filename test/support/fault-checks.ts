import { verifyDataset } from '@bdv-cluster/bdv';
import { existsSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'vitest';
import type { FaultCluster } from './fault-cluster.js';
import { comparePixels } from './oracle.js';

export interface ExpectedView {
  time: number;
  setup: number;
  viewKey: string;
  npy: string;
}

/**
 * What every fault run must end with: the dataset `complete`; every written view's pixels equal to
 * numpy's recomputation from the raw input at every level (what a clean run gives); every view
 * written exactly once ("view written" log lines); `<name>.checksums.json` beside the XML and the
 * dataset verifying against it (libs/bdv verifyDataset, as `bdv verify`); no journal, staged or
 * pending file left in the dataset's folder. `failed` views are expected to be failed instead.
 */
export async function expectIntactDataset(
  cluster: FaultCluster,
  id: string,
  views: readonly ExpectedView[],
  subsampling: number[][],
  failed: readonly string[] = [],
): Promise<void> {
  const dataset = (await cluster.api.get(`/v1/datasets/${id}`)).body;
  expect(dataset.status, JSON.stringify(dataset.errors)).toBe('complete');
  const counts = dataset.views as Record<string, number>;
  expect(counts).toMatchObject({ done: views.length - failed.length, failed: failed.length });
  for (const [state, n] of Object.entries(counts))
    if (state !== 'done' && state !== 'failed') expect(n, `views ${state}`).toBe(0);
  expect(dataset.waiting).toEqual({});

  const written = views.filter((v) => !failed.includes(v.viewKey));
  const lines = cluster.writtenCounts(id);
  expect(lines, 'every view written exactly once').toEqual(
    Object.fromEntries(written.map((v) => [v.viewKey, 1])),
  );

  const xml = dataset.files.xml as string;
  expect(existsSync(xml.replace(/\.xml$/, '.checksums.json'))).toBe(true);
  const report = await verifyDataset(xml);
  expect(
    report.ok,
    JSON.stringify([...report.problems, ...report.views.filter((v) => v.problems.length)]),
  ).toBe(true);
  expect(report.views).toHaveLength(written.length);

  const compared = comparePixels({ h5: dataset.files.h5, subsampling_zyx: subsampling, views: written });
  expect(compared).toHaveLength(written.length);
  for (const view of compared)
    for (const level of view.levels)
      expect(level.mismatches, `t${view.time} s${view.setup} level ${level.level}`).toBe(0);

  const leftovers = readdirSync(dirname(xml)).filter((f) => /\.(journal|tmp)$|\.pending\./.test(f));
  expect(leftovers, 'journals, staged or pending files left behind').toEqual([]);
}
