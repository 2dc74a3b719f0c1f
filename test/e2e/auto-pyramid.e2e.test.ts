import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client.js';
import { comparePixels, describeBdv, makeStacks, tempDir } from '../support/oracle.js';
import { startTestCluster, type TestCluster } from '../support/test-cluster.js';

// "auto" pyramids on the cluster (real processes, two writers, partitioned so they race for the
// first view): chosen once from the first view to be written — its header shape and voxel size —
// shown in the dataset's spec, shared by every view, and every level as numpy computes it.

const dir = tempDir('bdv-e2e-auto-');
const p = (name: string) => join(dir.path, name);
let cluster: TestCluster;
let api: ApiClient;
const TILES = [0, 1, 2];

beforeAll(async () => {
  makeStacks(
    dir.path,
    TILES.map((tile) => ({ path: p(`tile${tile}.npy`), shape: [12, 300, 520], seed: 40 + tile })),
  );
  cluster = await startTestCluster(dir.path, 2);
  api = new ApiClient(cluster.stack.apiUrl, cluster.stack.token);
});

afterAll(async () => {
  await cluster?.stop();
  dir.remove();
});

// voxel (0.5,0.5,2) -> scale (1,1,4): 32x32x4 with the 4 along z, x,y halve; then (1,1,2): 16³,
// every axis halves; 130 wide -> stop (libs/bdv/test/propose-mipmaps.test.ts has the rule).
const LEVELS = [
  [1, 1, 1],
  [1, 2, 2],
  [2, 4, 4],
];
const BLOCKS = [
  [4, 32, 32],
  [16, 16, 16],
  [16, 16, 16],
];

describe('subsamplingZyx / blockSizeZyx "auto" on the cluster', () => {
  it('is chosen from the first view written, stored and shown in the spec, shared by every view', async () => {
    const created = await api.post('/v1/datasets', {
      name: 'e2e-auto',
      setup: { tiles: 3 },
      layout: 'partitioned',
      compression: 'gzip',
      subsamplingZyx: 'auto',
      blockSizeZyx: 'auto',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.spec).toMatchObject({ subsamplingZyx: 'auto', blockSizeZyx: 'auto' });
    expect(created.body.pyramid).toEqual({ auto: ['subsamplingZyx', 'blockSizeZyx'] });
    const id = created.body.id as string;
    for (const tile of TILES) {
      const r = await api.post(`/v1/datasets/${id}/views`, {
        tile,
        source: { uri: `file://${p(`tile${tile}.npy`)}` },
        voxelSizeXyz: [0.5, 0.5, 2],
        voxelUnits: 'um',
      });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
    }
    await api.post(`/v1/datasets/${id}/finalize`, {});
    const done = await api.waitForDataset(id, ['complete', 'failed']);
    expect(done.status, JSON.stringify(done.errors)).toBe('complete');

    expect(done.spec.subsamplingZyx).toEqual(LEVELS);
    expect(done.spec.blockSizeZyx).toEqual(BLOCKS);
    expect(done.pyramid).toMatchObject({
      auto: ['subsamplingZyx', 'blockSizeZyx'],
      fromView: expect.stringMatching(/^t0-i0-c0-s[012]-a0$/),
      shapeZyx: [12, 300, 520],
      voxelSizeXyz: [0.5, 0.5, 2],
    });
    // one writer chose; the other took its choice
    const chosen = cluster.logs.filter((l) => l.line.includes('"auto pyramid chosen"'));
    expect(chosen).toHaveLength(1);

    const h5 = describeBdv(done.files.h5).h5;
    for (const setup of ['s00', 's01', 's02']) {
      expect(h5.values[`${setup}/resolutions`], setup).toEqual([
        [1, 1, 1],
        [2, 2, 1],
        [4, 4, 2],
      ]);
      expect(h5.values[`${setup}/subdivisions`], setup).toEqual([
        [32, 32, 4],
        [16, 16, 16],
        [16, 16, 16],
      ]);
    }
    const views = TILES.map((tile) => ({ time: 0, setup: tile, npy: p(`tile${tile}.npy`) }));
    for (const view of comparePixels({ h5: done.files.h5, subsampling_zyx: LEVELS, views }))
      for (const level of view.levels)
        expect(level.mismatches, `setup ${view.setup} level ${level.level}`).toBe(0);
  });

  it("keeps npy2bdv's single level when the request says nothing (the API default is unchanged)", async () => {
    const created = await api.post('/v1/datasets', { name: 'e2e-default-levels' });
    expect(created.body.spec).toMatchObject({ subsamplingZyx: [[1, 1, 1]], blockSizeZyx: [[4, 256, 256]] });
    expect(created.body.pyramid).toBeUndefined();
  });
});
